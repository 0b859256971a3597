// The config file when none is named: relative to the working folder for the CLI, to the package
// for a deployment (wiring.ts). Its own module, so that the CLI's usage text loads nothing else.
export const DEFAULT_CONFIG = "config/backup-config.yaml";
