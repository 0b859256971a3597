// Entry of the Cloud Functions deployment: registers every function. Each deployed function runs
// one of them, and builds its app once per instance, on first use, from its own environment.
import { memoizedApps, registerFunctions } from "./register.js";
import { cloudApp } from "./wiring.js";

registerFunctions(memoizedApps((fn) => cloudApp(fn, process.env)));
