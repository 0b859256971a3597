// Entry of the Cloud Functions deployment: registers every function. The app (the adapters for
// this deployment) is built once per instance, on first use, from the environment.
import { registerFunctions } from "./register.js";
import { cloudAppFromEnv, type CloudApp } from "./wiring.js";

let app: Promise<CloudApp> | undefined;
const getApp = (): Promise<CloudApp> => {
  app ??= cloudAppFromEnv(process.env).catch((err) => {
    app = undefined; // a failed start (e.g. a secret not yet readable) is retried on the next call
    throw err;
  });
  return app;
};

registerFunctions(getApp, () => process.env.GITHUB_WEBHOOK_SECRET ?? "");
