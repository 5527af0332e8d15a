/**
 * The floor of fan-out: a bare `ws` server (no GraphQL, no protocol) on `PORT`
 * that, on `POST /broadcast` with `{ frames: string[] }`, sends each
 * pre-serialised frame to every connected client, in order, as fast as it can.
 * `GET /ready` answers once listening; `GET /clients` counts sockets.
 */
import { createServer } from "node:http";
import { WebSocketServer } from "ws";

const server = createServer((request, response) => {
  if (request.url === "/ready") return void response.end("ok");
  if (request.url === "/clients") return void response.end(String(wss.clients.size));
  if (request.url === "/broadcast" && request.method === "POST") {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const { frames } = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { frames: string[] };
      response.end("sent");
      setImmediate(() => {
        for (const frame of frames) for (const client of wss.clients) client.send(frame);
      });
    });
    return;
  }
  response.writeHead(404).end();
});
const wss = new WebSocketServer({ server, path: "/graphql" });
server.listen(Number(process.env.PORT), "127.0.0.1");
process.once("SIGTERM", () => {
  for (const client of wss.clients) client.terminate();
  server.close(() => process.exit(0));
});
