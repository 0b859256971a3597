import tseslint from "typescript-eslint";

// The wiring rule, enforced: only functions/wiring.ts chooses adapters and builds SDK clients.
// core/ talks to ports; handlers, jobs and CLI commands translate input and output.
const CLOUD_SDKS = [
  "@google-cloud/storage",
  "@google-cloud/firestore",
  "@google-cloud/kms",
  "@google-cloud/pubsub",
];
const SDKS = [...CLOUD_SDKS, "@octokit/*", "better-sqlite3"];
const noAdapters = (message) => ({ group: ["**/adapters/*", "**/adapters/**"], message });
const noWiring = (message) => ({ group: ["**/wiring.js", "**/wiring"], message });
const sdkPatterns = (message) => SDKS.map((name) => ({ group: [name, `${name}/*`], message }));

export default tseslint.config(
  { ignores: ["node_modules/", "dist/", ".tools/", ".infinity-backup/", "coverage/"] },
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  {
    files: ["functions/core/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            noAdapters("core/ talks only to ports (core/ports.ts); wiring.ts chooses adapters"),
            noWiring("core/ is wired from outside; it never imports wiring.ts"),
            {
              group: ["**/handlers/*", "**/cli/*", "**/cli/**", "**/jobs/*", "**/config/*", "**/app.js"],
              message: "core/ is the domain: entry points and config depend on it, not the reverse",
            },
            ...sdkPatterns("core/ imports no SDK; add a port and an adapter"),
          ],
        },
      ],
    },
  },
  {
    files: [
      "functions/handlers/**/*.ts",
      "functions/jobs/**/*.ts",
      "functions/cli/commands/**/*.ts",
      "functions/config/**/*.ts",
    ],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            noAdapters(
              "handlers, jobs, commands and config get their ports from wiring.ts, never an adapter",
            ),
            noWiring("only entry points (functions/index.ts, cli/main.ts) import wiring.ts"),
            ...sdkPatterns("handlers, jobs, commands and config import no SDK; wiring.ts builds clients"),
          ],
        },
      ],
    },
  },
  {
    files: ["functions/adapters/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            noWiring("adapters are chosen by wiring.ts; they never import it"),
            {
              group: ["**/handlers/*", "**/cli/*", "**/cli/**", "**/jobs/*"],
              message: "adapters serve core's ports, not entry points",
            },
          ],
        },
      ],
    },
  },
);
