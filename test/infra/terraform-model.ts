// Reads infra/*.tf through @cdktf/hcl2json into one JSON document, and answers the
// questions the infra tests ask of it (blocks, variable defaults, references, IAM grants,
// and the exact environment each workload is deployed with).
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
  /** `moved` blocks: from and to as "${address}". */
  moved: Body[];
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
    moved: [],
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
    doc.moved.push(...(parsed.moved ?? []));
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

/** The entries a `for_each` of exactly "${local.x}" runs over, when local.x is a literal map. */
export function localMapOf(doc: TerraformDoc, forEach: unknown): Record<string, Body> | undefined {
  const local = /^\$\{local\.([a-z0-9_]+)\}$/.exec(String(forEach))?.[1];
  const map = local === undefined ? undefined : localValue(doc, local);
  return map && typeof map === "object" && !Array.isArray(map) ? (map as Record<string, Body>) : undefined;
}

/** `body` (without its for_each) as the instance for `key`: each.key and each.value.FIELD put in. */
export function instanceBody(body: Body, key: string, value: Body): Body {
  const { for_each: _forEach, ...rest } = body;
  // Inside an expression a value stands as an HCL string literal, escaped as JSON text holds it.
  const literal = (v: unknown) => JSON.stringify(JSON.stringify(v)).slice(1, -1);
  const text = JSON.stringify(rest)
    .replace(/"\$\{each\.value\.([a-z0-9_]+)\}"/g, (_, field: string) => JSON.stringify(value[field]))
    .replace(/each\.value\.([a-z0-9_]+)/g, (_, field: string) => literal(value[field]))
    .replace(/each\.key/g, literal(key));
  return JSON.parse(text) as Body;
}

/**
 * Every instance of a resource type by address: "name" for a single resource, `name["key"]` for
 * each entry of a `for_each` over a literal local map, with `each.key` and `each.value.FIELD` put
 * in as Terraform would (a whole "${each.value.FIELD}" becomes the field's value). Any other
 * `for_each` is refused, so that a changed expression fails loudly instead of being misread.
 */
export function instancesOf(doc: TerraformDoc, type: string): Record<string, Body> {
  const instances: Record<string, Body> = {};
  for (const { name, body } of resourcesOf(doc, type)) {
    if (body["for_each"] === undefined) {
      instances[name] = body;
      continue;
    }
    const map = localMapOf(doc, body["for_each"]);
    if (!map)
      throw new Error(
        `${type}.${name}: for_each ${JSON.stringify(body["for_each"])} is not a literal local map`,
      );
    for (const [key, value] of Object.entries(map))
      instances[`${name}[${JSON.stringify(key)}]`] = instanceBody(body, key, value);
  }
  return instances;
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

/** Addresses referenced anywhere under `value`: "google_x.name", "time_x.name", "data.google_x.name", "var.x", "local.x". */
export function references(value: unknown): Set<string> {
  const found = new Set<string>();
  const visit = (v: unknown): void => {
    if (typeof v === "string") {
      if (!v.includes("${")) return;
      let rest = v;
      for (const m of rest.matchAll(/\bdata\.([a-z0-9_]+)\.([a-z0-9_]+)/g)) found.add(`data.${m[1]}.${m[2]}`);
      rest = rest.replace(/\bdata\.[a-z0-9_]+\.[a-z0-9_]+/g, "");
      for (const m of rest.matchAll(/\b((?:google|time)_[a-z0-9_]+)\.([a-z0-9_]+)/g))
        found.add(`${m[1]}.${m[2]}`);
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
    for (const { name, body: declared } of resourcesOf(doc, type)) {
      // A for_each over a literal local map whose entries say who or where (each.value.FIELD): one
      // grant per entry, as Terraform evaluates it. One that reads each.key only is one grant, read
      // as written (dead-letter grants over local.topics).
      const perEntry = JSON.stringify(declared).includes("each.value.");
      const map = perEntry ? localMapOf(doc, declared["for_each"]) : undefined;
      for (const body of map
        ? Object.entries(map).map(([k, v]) => instanceBody(declared, k, v))
        : [declared]) {
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

// --- The environment each workload is deployed with ------------------------------------------
//
// infra/environment.tf computes it with a few `for` expressions over literal tables. Terraform
// cannot run here (no provider download), so deployedEnv evaluates those tables itself and
// first checks that the expressions, and the way functions.tf and run_job.tf use them, are
// exactly the ones it knows how to evaluate: a changed expression fails loudly instead of
// being misread.

/** What a workload is started with: plain variables (name -> raw HCL expression) and secret names. */
export interface DeployedEnv {
  plain: Record<string, string>;
  secrets: string[];
}

/** Values of Terraform variables, as a terraform.tfvars would set them. */
export type TfVars = Record<string, unknown>;

const EXPECTED_LOCALS: Record<string, string> = {
  env: "${merge(local.env_always, { for name, value in local.env_when_set : name => value if value != null })}",
  workload_reads:
    "${{ for workload, parts in local.workload_parts : workload => toset(flatten([for part in parts : local.env_parts[part]])) }}",
  workload_env:
    "${{ for workload, names in local.workload_reads : workload => { for name, value in local.env : name => value if contains(names, name) } }}",
  workload_secrets:
    "${{ for workload, names in local.workload_reads : workload => sort([for name in names : name if contains(keys(local.secret_env), name)]) }}",
};

/** A variable's value: `vars` when it sets it, else the declared default. */
export function variableValue(doc: TerraformDoc, name: string, vars: TfVars = {}): unknown {
  return name in vars ? vars[name] : (variableDefault(doc, name) ?? null);
}

/**
 * The environment Terraform gives `workload` (a function's entry point, or "snapshotJob" for the
 * Cloud Run job) with the variables at their defaults, or as `vars` sets them.
 */
export function deployedEnv(infra: { doc: TerraformDoc }, workload: string, vars: TfVars = {}): DeployedEnv {
  const { doc } = infra;
  for (const [name, expected] of Object.entries(EXPECTED_LOCALS)) {
    if (squash(localValue(doc, name)) !== expected) {
      throw new Error(`local.${name} is not the expression deployedEnv evaluates; update terraform-model.ts`);
    }
  }
  const wiring = workloadWiring(doc, workload);

  const parts = localValue(doc, "workload_parts") as Record<string, unknown>;
  const partEnv = localValue(doc, "env_parts") as Record<string, unknown>;
  const workloadParts = parts[wiring.key];
  if (!Array.isArray(workloadParts)) throw new Error(`local.workload_parts has no list for ${wiring.key}`);
  const reads = new Set(
    workloadParts.flatMap((part: string) => {
      const names = partEnv[part];
      if (!Array.isArray(names)) throw new Error(`local.env_parts has no part ${part}`);
      return names as string[];
    }),
  );

  const env = { ...setEnv(doc, vars) };
  const secretNames = Object.keys(localValue(doc, "secret_env") as Record<string, unknown>);
  const plain = Object.fromEntries(Object.entries(env).filter(([name]) => reads.has(name)));
  const secrets = [...reads].filter((name) => secretNames.includes(name)).sort();
  for (const extra of wiring.staticEnv) {
    if (extra.secret) secrets.push(extra.name);
    else plain[extra.name] = extra.value;
  }
  return { plain, secrets: [...new Set(secrets)].sort() };
}

/** local.env: env_always, plus each entry of env_when_set whose variable is set. */
function setEnv(doc: TerraformDoc, vars: TfVars): Record<string, string> {
  const always = localValue(doc, "env_always") as Record<string, string>;
  const whenSet = localValue(doc, "env_when_set") as Record<string, string>;
  const env: Record<string, string> = { ...always };
  for (const [name, expression] of Object.entries(whenSet)) {
    const ifNotNull = /^\$\{var\.([a-z0-9_]+) == null \? null : (.+)\}$/s.exec(expression);
    const ifNotEmpty = /^\$\{length\(var\.([a-z0-9_]+)\) == 0 \? null : (.+)\}$/s.exec(expression);
    const passThrough = /^\$\{var\.([a-z0-9_]+)\}$/.exec(expression);
    if (ifNotNull) {
      if (variableValue(doc, ifNotNull[1]!, vars) !== null) env[name] = `\${${ifNotNull[2]}}`;
    } else if (ifNotEmpty) {
      const value = variableValue(doc, ifNotEmpty[1]!, vars);
      if (Array.isArray(value) && value.length > 0) env[name] = `\${${ifNotEmpty[2]}}`;
    } else if (passThrough) {
      if (variableValue(doc, passThrough[1]!, vars) !== null) env[name] = expression;
    } else {
      throw new Error(`local.env_when_set.${name}: deployedEnv cannot tell when ${expression} is set`);
    }
  }
  return env;
}

interface Wiring {
  /** The key of local.workload_parts / workload_env / workload_secrets. */
  key: string;
  /** Environment set directly on the resource (none today). */
  staticEnv: { name: string; value: string; secret: boolean }[];
}

/** Checks that the workload's resource takes its environment from local.workload_env/_secrets. */
function workloadWiring(doc: TerraformDoc, workload: string): Wiring {
  const functions = localValue(doc, "functions") as Record<string, Body>;
  if (workload in functions) {
    const fn = resourceBody(doc, "google_cloudfunctions2_function", "fn");
    const service = block(fn, "service_config");
    const problems = [
      fn["for_each"] !== "${local.functions}" && "for_each is not local.functions",
      service["environment_variables"] !== "${local.workload_env[each.key]}" &&
        "environment_variables is not local.workload_env[each.key]",
      blocks(service, "secret_environment_variables").length > 0 && "static secret_environment_variables",
    ];
    const dynamicSecrets = (service["dynamic"] as Record<string, Body[]> | undefined)?.[
      "secret_environment_variables"
    ];
    const [secretsBlock] = dynamicSecrets ?? [];
    const content = secretsBlock ? blocks(secretsBlock, "content")[0] : undefined;
    if (
      dynamicSecrets?.length !== 1 ||
      secretsBlock?.["for_each"] !== "${toset(local.workload_secrets[each.key])}" ||
      content?.["key"] !== "${secret_environment_variables.value}" ||
      content?.["secret"] !== "${local.secret_env[secret_environment_variables.value]}"
    ) {
      problems.push("secret_environment_variables is not one dynamic block over local.workload_secrets");
    }
    const found = problems.filter(Boolean);
    if (found.length) throw new Error(`google_cloudfunctions2_function.fn: ${found.join("; ")}`);
    return { key: workload, staticEnv: [] };
  }

  for (const { name, body } of resourcesOf(doc, "google_cloud_run_v2_job")) {
    const container = block(block(block(body, "template"), "template"), "containers");
    const dynamicEnv = (container["dynamic"] as Record<string, Body[]> | undefined)?.["env"] ?? [];
    const plainFrom = `\${local.workload_env["${workload}"]}`;
    const secretsFrom = `\${toset(local.workload_secrets["${workload}"])}`;
    if (!dynamicEnv.some((d) => d["for_each"] === plainFrom)) continue;
    for (const d of dynamicEnv) {
      const content = blocks(d, "content")[0] ?? {};
      const ref = blocks(blocks(content, "value_source")[0] ?? {}, "secret_key_ref")[0];
      const ok =
        (d["for_each"] === plainFrom &&
          content["name"] === "${env.key}" &&
          content["value"] === "${env.value}") ||
        (d["for_each"] === secretsFrom &&
          content["name"] === "${env.value}" &&
          ref?.["secret"] === "${local.secret_env[env.value]}");
      if (!ok) throw new Error(`google_cloud_run_v2_job.${name}: a dynamic env deployedEnv cannot read`);
    }
    if (!dynamicEnv.some((d) => d["for_each"] === secretsFrom)) {
      throw new Error(`google_cloud_run_v2_job.${name}: no dynamic env over local.workload_secrets`);
    }
    const staticEnv = blocks(container, "env").map((env) => {
      const ref = blocks(blocks(env, "value_source")[0] ?? {}, "secret_key_ref")[0];
      return { name: String(env["name"]), value: String(env["value"] ?? ""), secret: ref !== undefined };
    });
    return { key: workload, staticEnv };
  }
  throw new Error(`no function or Cloud Run job is deployed as ${workload}`);
}

/** The service account resource name ("snapshot" for google_service_account.snapshot) a workload runs as. */
export function workloadServiceAccount(infra: { doc: TerraformDoc }, workload: string): string {
  const { doc } = infra;
  const functions = localValue(doc, "functions") as Record<string, Body>;
  let expression: unknown = functions[workload]?.["service_account"];
  if (expression === undefined) {
    const plainFrom = `\${local.workload_env["${workload}"]}`;
    const job = resourcesOf(doc, "google_cloud_run_v2_job").find(({ body }) =>
      JSON.stringify(body).includes(JSON.stringify(plainFrom).slice(1, -1)),
    );
    if (job) expression = block(block(job.body, "template"), "template")["service_account"];
  }
  const m = /^\$\{google_service_account\.([a-z0-9_]+)\.email\}$/.exec(String(expression));
  if (!m) throw new Error(`${workload} runs as ${String(expression)}, not one of our service accounts`);
  return m[1] as string;
}

/** An expression with its whitespace runs folded to single spaces. */
function squash(value: unknown): string {
  return String(value).replace(/\s+/g, " ");
}
