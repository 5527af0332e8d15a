/**
 * The console's shell: sign-in, then one client per session (urql + graphql-ws
 * with the token), the navigation and the page the path names.
 */
import { useEffect, useMemo, useState } from "react";
import { Provider } from "urql";
import { Context } from "./console-context";
import { createConsoleClient, type ConnectionState } from "./graph/client";
import { Link, usePath } from "./router";
import { canEdit, storedSession, storeSession, type Session } from "./session";
import { SignIn } from "./pages/sign-in";
import { Overview } from "./pages/overview";
import { Devices } from "./pages/devices";
import { DevicePage } from "./pages/device";
import { AccessChanges } from "./pages/access-changes";
import { Policies } from "./pages/policies";
import { Partners } from "./pages/partners";
import { Inventory } from "./pages/inventory";
import { AuditLog } from "./pages/audit-log";

const PAGES = [
  { path: "/", name: "Overview" },
  { path: "/devices", name: "Devices" },
  { path: "/access-changes", name: "Access changes" },
  { path: "/policies", name: "Policies" },
  { path: "/partners", name: "Partners" },
  { path: "/inventory", name: "Inventory" },
  { path: "/audit-log", name: "Audit log" },
] as const;

const CONSOLE_ROLES = new Set(["admin", "analyst"]);

export function App() {
  const [session, setSession] = useState<Session | undefined>(storedSession);
  const signIn = (next: Session | undefined) => {
    storeSession(next);
    setSession(next);
  };
  if (session === undefined || !CONSOLE_ROLES.has(session.role)) {
    const refused = session && `This console is for admins and analysts; the token's role is ${session.role}.`;
    return <SignIn key={session?.token ?? ""} onSignIn={signIn} refused={refused} />;
  }
  return <SignedIn key={session.token} session={session} onSignOut={() => signIn(undefined)} />;
}

function SignedIn({ session, onSignOut }: { session: Session; onSignOut(): void }) {
  const [connection, setConnection] = useState<ConnectionState>("connecting");
  const client = useMemo(() => createConsoleClient(session.token, setConnection), [session.token]);
  useEffect(() => () => client.dispose(), [client]);
  const path = usePath();
  const section = PAGES.slice(1).find((page) => path === page.path || path.startsWith(`${page.path}/`))?.path ?? "/";
  useEffect(() => {
    const page = PAGES.find((p) => p.path === section);
    document.title = `${page?.name ?? "Overview"} · MTD Graph console`;
  }, [section]);
  const context = useMemo(() => ({ session, editable: canEdit(session), connection }), [session, connection]);

  return (
    <Provider value={client.urql}>
      <Context.Provider value={context}>
        <a className="skip" href="#main">
          Skip to content
        </a>
        <header className="top">
          <span className="brand">MTD Graph</span>
          <nav aria-label="Console">
            <ul>
              {PAGES.map((page) => (
                <li key={page.path}>
                  <Link to={page.path} current={section === page.path}>
                    {page.name}
                  </Link>
                </li>
              ))}
            </ul>
          </nav>
          <span className="who">
            {session.subject || "signed in"} · {session.role} · {session.tenantId}
            <button type="button" className="link" onClick={onSignOut}>
              Sign out
            </button>
          </span>
        </header>
        <main id="main" tabIndex={-1}>
          <Page path={path} />
        </main>
      </Context.Provider>
    </Provider>
  );
}

function Page({ path }: { path: string }) {
  const device = /^\/devices\/(.+)$/.exec(path);
  if (device) return <DevicePage id={decodeURIComponent(device[1]!)} />;
  switch (path) {
    case "/devices":
      return <Devices />;
    case "/access-changes":
      return <AccessChanges />;
    case "/policies":
      return <Policies />;
    case "/partners":
      return <Partners />;
    case "/inventory":
      return <Inventory />;
    case "/audit-log":
      return <AuditLog />;
    default:
      return <Overview />;
  }
}
