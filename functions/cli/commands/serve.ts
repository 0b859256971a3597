// `infinity-backup serve`: the status page (charts, search, filters) over the local data folder,
// at http://127.0.0.1:8787/ until Ctrl-C. --port and --host change where.
import { UserInputError } from "../../core/errors.js";
import { startStatusServer } from "../../web/status-server.js";
import { EXIT, type Context } from "../context.js";

export async function serveCommand(ctx: Context): Promise<number> {
  const port = ctx.options.port === undefined ? 8787 : Number(ctx.options.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UserInputError(`--port "${ctx.options.port}" is not a port number (0-65535)`);
  let server;
  try {
    server = await startStatusServer(ctx.app, { port, host: ctx.options.host ?? "127.0.0.1" });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE") throw new UserInputError(`port ${port} is in use: pass --port N`);
    throw err;
  }
  ctx.print(`Status page: ${server.url}  (Ctrl-C to stop)`);
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await server.close();
  return EXIT.ok;
}
