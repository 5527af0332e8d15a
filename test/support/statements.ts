/** A test instrument: the SQL statements a subgraph sends, counted through its TypeORM logger (`sqlLogger`). */
import type { Logger } from "typeorm";

/**
 * Counts SQL statements a data source sends and keeps the most recent ones:
 * N+1 tests count what one request cost (`since(mark)`), leaving out the
 * background work of the outbox relay.
 */
export class StatementCounter implements Logger {
  count = 0;
  private readonly recent: string[] = [];
  private static readonly KEEP = 5_000;

  logQuery(query: string) {
    if (query === "SELECT 1") return;
    this.count += 1;
    this.recent.push(query);
    if (this.recent.length > StatementCounter.KEEP) this.recent.splice(0, this.recent.length - StatementCounter.KEEP);
  }

  /** A position to count from. */
  mark(): number {
    return this.count;
  }

  /** Data statements sent since `mark`: neither transaction control nor the background work of the outbox relay and the audit-log consumer. */
  since(mark: number): string[] {
    const kept = this.recent.slice(Math.max(0, this.recent.length - (this.count - mark)));
    return kept.filter((query) => !/_outbox\b|\baudit_log\b/.test(query) && !/^\s*(START TRANSACTION|BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE SAVEPOINT|SET TRANSACTION)/i.test(query));
  }
  logQueryError() {}
  logQuerySlow() {}
  logSchemaBuild() {}
  logMigration() {}
  log() {}
}
