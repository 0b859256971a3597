// Reads infra/*.tf through @cdktf/hcl2json into one JSON document, and answers the
// questions the infra tests ask of it (blocks, variable defaults, references, IAM grants).
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { parse } from "@cdktf/hcl2json";

/** One block's attributes. Nested blocks are arrays of Body; expressions are "${...}" strings. */
export type Body = Record<string, unknown>;

type Named = Record<string, Body[]>;

export interface TerraformDoc {
  resource: Record<string, Named>;
  data: Record<string, Named>;
  variable: Named;
  output: Named;
  locals: Body[];
  terraform: Body[];
  provider: Named;
}

export interface Infra {
  doc: TerraformDoc;
  /** File name -> source text. */
  sources: Record<string, string>;
  /** File name -> "type.name" of each resource declared in it. */
  resourcesByFile: Record<string, string[]>;
}

export async function loadInfra(dir: string): Promise<Infra> {
  const doc: TerraformDoc = {
    resource: {},
    data: {},
    variable: {},
    output: {},
    locals: [],
    terraform: [],
    provider: {},
  };
  const sources: Record<string, string> = {};
  const resourcesByFile: Record<string, string[]> = {};
  const files = (await readdir(dir)).filter((f) => f.endsWith(".tf")).sort();
  for (const file of files) {
    const text = await readFile(path.join(dir, file), "utf8");
    sources[file] = text;
    // hcl2json's typings say Record<string, any>; the shape is the one TerraformDoc describes.
    const parsed = (await parse(file, text)) as Partial<TerraformDoc>;
    resourcesByFile[file] = [];
    for (const [type, byName] of Object.entries(parsed.resource ?? {})) {
      for (const name of Object.keys(byName)) resourcesByFile[file].push(`${type}.${name}`);
      mergeNamed((doc.resource[type] ??= {}), byName, `resource ${type}`);
    }
    for (const [type, byName] of Object.entries(parsed.data ?? {})) {
      mergeNamed((doc.data[type] ??= {}), byName, `data ${type}`);
    }
    mergeNamed(doc.variable, parsed.variable ?? {}, "variable");
    mergeNamed(doc.output, parsed.output ?? {}, "output");
    mergeNamed(doc.provider, parsed.provider ?? {}, "provider");
    doc.locals.push(...(parsed.locals ?? []));
    doc.terraform.push(...(parsed.terraform ?? []));
  }
  return { doc, sources, resourcesByFile };
}

function mergeNamed(into: Named, from: Named, what: string): void {
  for (const [name, bodies] of Object.entries(from)) {
    if (into[name]) throw new Error(`${what} "${name}" is declared twice`);
    into[name] = bodies;
  }
}

/** Every resource of a type, with its name. */
export function resourcesOf(doc: TerraformDoc, type: string): { name: string; body: Body }[] {
  return Object.entries(doc.resource[type] ?? {}).map(([name, bodies]) => ({
    name,
    body: only(bodies, `${type}.${name}`),
  }));
}

export function resourceBody(doc: TerraformDoc, type: string, name: string): Body {
  const bodies = doc.resource[type]?.[name];
  if (!bodies) throw new Error(`resource ${type}.${name} is not declared`);
  return only(bodies, `${type}.${name}`);
}

/** Nested blocks named `key` (static ones; see dynamicContents for dynamic ones). */
export function blocks(body: Body, key: string): Body[] {
  const value = body[key];
  return Array.isArray(value) ? (value as Body[]) : [];
}

/** The single nested block named `key`; throws when it is missing. */
export function block(body: Body, key: string): Body {
  const found = blocks(body, key);
  if (found.length === 0) throw new Error(`block "${key}" is missing`);
  return found[0] as Body;
}

/** The `content` of each `dynamic "key"` block. */
export function dynamicContents(body: Body, key: string): Body[] {
  const dynamic = body["dynamic"] as Record<string, Body[]> | undefined;
  return (dynamic?.[key] ?? []).flatMap((d) => blocks(d, "content"));
}

export function localValue(doc: TerraformDoc, name: string): unknown {
  const holder = doc.locals.find((l) => name in l);
  if (!holder) throw new Error(`local.${name} is not declared`);
  return holder[name];
}

export function variableDefault(doc: TerraformDoc, name: string): unknown {
  const bodies = doc.variable[name];
  if (!bodies) throw new Error(`var.${name} is not declared`);
  return only(bodies, `var.${name}`)["default"];
}

/** A literal stays as it is; exactly "${var.x}" becomes var.x's default. */
export function resolve(doc: TerraformDoc, value: unknown): unknown {
  const m = typeof value === "string" ? /^\$\{var\.([a-z0-9_]+)\}$/.exec(value) : null;
  return m ? variableDefault(doc, m[1] as string) : value;
}

/** Addresses referenced anywhere under `value`: "google_x.name", "data.google_x.name", "var.x", "local.x". */
export function references(value: unknown): Set<string> {
  const found = new Set<string>();
  const visit = (v: unknown): void => {
    if (typeof v === "string") {
      if (!v.includes("${")) return;
      let rest = v;
      for (const m of rest.matchAll(/\bdata\.([a-z0-9_]+)\.([a-z0-9_]+)/g)) found.add(`data.${m[1]}.${m[2]}`);
      rest = rest.replace(/\bdata\.[a-z0-9_]+\.[a-z0-9_]+/g, "");
      for (const m of rest.matchAll(/\b(google_[a-z0-9_]+)\.([a-z0-9_]+)/g)) found.add(`${m[1]}.${m[2]}`);
      for (const m of rest.matchAll(/\b(var|local)\.([a-z0-9_]+)/g)) found.add(`${m[1]}.${m[2]}`);
    } else if (Array.isArray(v)) {
      v.forEach(visit);
    } else if (v && typeof v === "object") {
      Object.values(v).forEach(visit);
    }
  };
  visit(value);
  return found;
}

/** One IAM grant as the infra declares it. */
export interface Grant {
  /** "type.name" of the IAM resource. */
  address: string;
  role: string;
  /** Service account resource name ("snapshot"), "allUsers", "pubsub-agent", or "var.x" for a for_each over a variable. */
  principal: string;
  /** What it is granted on: "project", or the referenced resource, e.g. 'google_pubsub_topic.topic["verify-requests"]'. */
  target: string;
  conditioned: boolean;
}

/** IAM resource type -> the attribute naming what the grant is on. */
const IAM_TARGETS: Record<string, string> = {
  google_project_iam_member: "project",
  google_kms_crypto_key_iam_member: "crypto_key_id",
  google_storage_bucket_iam_member: "bucket",
  google_pubsub_topic_iam_member: "topic",
  google_pubsub_subscription_iam_member: "subscription",
  google_secret_manager_secret_iam_member: "secret_id",
  google_cloud_run_v2_service_iam_member: "name",
  google_cloud_run_v2_job_iam_member: "name",
  google_service_account_iam_member: "service_account_id",
  google_artifact_registry_repository_iam_member: "repository",
};

export function isIamResourceType(type: string): boolean {
  return /_iam_(member|binding|policy)$/.test(type);
}

/** Every grant, with for_each over a literal map expanded into one grant per entry. */
export function collectGrants(doc: TerraformDoc): Grant[] {
  const grants: Grant[] = [];
  for (const type of Object.keys(doc.resource).filter(isIamResourceType)) {
    const targetKey = IAM_TARGETS[type];
    if (!targetKey) throw new Error(`no rule to read grants of ${type}; add it to IAM_TARGETS`);
    for (const { name, body } of resourcesOf(doc, type)) {
      const forEach = body["for_each"];
      const instances: [string, string][] =
        forEach && typeof forEach === "object"
          ? Object.entries(forEach as Record<string, string>)
          : [["", ""]];
      for (const [key, value] of instances) {
        const expand = (s: string): string =>
          key ? s.replaceAll("${each.value}", value).replaceAll("each.key", JSON.stringify(key)) : s;
        const member = expand(String(body["member"]));
        const target = expand(String(body[targetKey]));
        grants.push({
          address: `${type}.${name}`,
          role: String(body["role"]),
          principal: principalOf(member, forEach),
          target: type === "google_project_iam_member" ? "project" : targetOf(target),
          conditioned: blocks(body, "condition").length > 0,
        });
      }
    }
  }
  return grants;
}

function principalOf(member: string, forEach: unknown): string {
  if (member === "allUsers" || member === "allAuthenticatedUsers") return member;
  const sa = /google_service_account\.([a-z0-9_]+)\.email/.exec(member);
  if (sa) return sa[1] as string;
  if (member.includes("local.pubsub_service_agent")) return "pubsub-agent";
  if (member.includes("each.value") && typeof forEach === "string") {
    const v = /var\.[a-z0-9_]+/.exec(forEach);
    if (v) return v[0];
  }
  return member;
}

function targetOf(expression: string): string {
  const m = /\$\{((?:data\.)?[a-z0-9_]+\.[a-z0-9_]+)(\[[^\]]*\])?/.exec(expression);
  return m ? `${m[1]}${m[2] ?? ""}` : expression;
}

function only(bodies: Body[], what: string): Body {
  if (bodies.length !== 1) throw new Error(`${what} is declared ${bodies.length} times`);
  return bodies[0] as Body;
}
