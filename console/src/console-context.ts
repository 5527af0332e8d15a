/** What every signed-in page reads: the session, whether it may edit, the live connection's state. */
import { createContext, useContext } from "react";
import type { ConnectionState } from "./graph/client";
import type { Session } from "./session";

export interface ConsoleContext {
  session: Session;
  /** Whether this session may change anything (admins); analysts get no edit controls at all. */
  editable: boolean;
  connection: ConnectionState;
}

export const Context = createContext<ConsoleContext | undefined>(undefined);

export function useConsole(): ConsoleContext {
  const value = useContext(Context);
  if (value === undefined) throw new Error("useConsole outside the signed-in console");
  return value;
}
