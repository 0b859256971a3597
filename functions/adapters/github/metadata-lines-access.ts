// Line schemas of who and what can act on the repository: collaborators, teams, webhooks, deploy
// keys, Actions variables, the names of Actions secrets, environments. Never a secret value: the
// schemas name no secret field, so none can reach an archive even if GitHub sent one.
import { z } from "zod";
import { timestamp } from "./metadata-lines-common.js";

export const collaboratorLine = z.object({
  login: z.string(),
  id: z.number().int(),
  type: z.string().optional(),
  role_name: z.string().optional(),
  permissions: z.record(z.string(), z.boolean()).optional(),
});

export const teamLine = z.object({
  id: z.number().int(),
  slug: z.string(),
  name: z.string(),
  permission: z.string(),
  privacy: z.string().optional(),
});

export const hookLine = z.object({
  id: z.number().int(),
  name: z.string(),
  active: z.boolean(),
  events: z.array(z.string()),
  // The config's `secret` (masked by GitHub anyway) is left out by naming only these.
  config: z.object({
    url: z.string().optional(),
    content_type: z.string().optional(),
    insecure_ssl: z.union([z.string(), z.number()]).optional(),
  }),
  created_at: timestamp,
  updated_at: timestamp,
});

export const deployKeyLine = z.object({
  id: z.number().int(),
  title: z.string(),
  /** The public key. */
  key: z.string(),
  read_only: z.boolean(),
  verified: z.boolean().optional(),
  added_by: z.string().nullable().optional(),
  created_at: timestamp,
  last_used: timestamp.nullable().optional(),
});

export const variableLine = z.object({
  name: z.string(),
  value: z.string(),
  created_at: timestamp,
  updated_at: timestamp,
});

export const secretNameLine = z.object({ name: z.string(), created_at: timestamp, updated_at: timestamp });

const reviewer = z.object({
  type: z.string(),
  reviewer: z
    .object({ login: z.string().optional(), slug: z.string().optional() })
    .transform((r) => r.login ?? r.slug ?? null),
});

export const environmentLine = z.object({
  id: z.number().int(),
  name: z.string(),
  protection_rules: z
    .array(
      z.object({
        id: z.number().int(),
        type: z.string(),
        wait_timer: z.number().int().optional(),
        prevent_self_review: z.boolean().optional(),
        reviewers: z.array(reviewer).optional(),
      }),
    )
    .optional(),
  deployment_branch_policy: z
    .object({ protected_branches: z.boolean(), custom_branch_policies: z.boolean() })
    .nullable()
    .optional(),
  created_at: timestamp,
  updated_at: timestamp,
});
