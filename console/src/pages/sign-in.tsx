import { useState, type FormEvent } from "react";
import { sessionFromToken, type Session } from "../session";

/** The token is typed or pasted here, kept in this tab only (sessionStorage), and sent as `Authorization: Bearer`. */
export function SignIn({ onSignIn, refused }: { onSignIn(session: Session | undefined): void; refused?: string }) {
  const [token, setToken] = useState("");
  const [problem, setProblem] = useState<string | undefined>(refused);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    try {
      onSignIn(sessionFromToken(token));
    } catch (error) {
      setProblem(error instanceof Error ? error.message : String(error));
    }
  };
  return (
    <main id="main" className="sign-in">
      <h1>MTD Graph console</h1>
      <form onSubmit={submit} aria-describedby="token-help">
        <label htmlFor="token">Access token</label>
        <textarea id="token" name="token" rows={4} value={token} onChange={(e) => setToken(e.target.value)} autoComplete="off" spellCheck={false} required />
        <p id="token-help" className="muted">
          A JWT for your tenant with role admin or analyst (<code>npm run token -- --tenant T --role admin</code>). It stays in this browser tab.
        </p>
        {problem && (
          <p role="alert" className="error">
            {problem}
          </p>
        )}
        <button type="submit">Sign in</button>
      </form>
    </main>
  );
}
