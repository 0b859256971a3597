// GroupDirectory over the Cloud Identity Groups API: is this email a (transitive) member of that
// Google group? The function's own service account asks, with an access token from the metadata
// server; answers are cached briefly so a burst of calls costs one lookup.
import type { GroupDirectory } from "../../core/roles.js";

const CLOUD_IDENTITY = "https://cloudidentity.googleapis.com/v1";
const METADATA_TOKEN =
  "http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token";
const CACHE_MS = 60_000;

export interface CloudIdentityGroupsOptions {
  /** The API root; tests point it at a stand-in. */
  apiUrl?: string;
  /** Where the access token comes from; tests point it at a stand-in. */
  tokenUrl?: string;
  fetch?: typeof fetch;
  now?: () => number;
}

export class CloudIdentityGroups implements GroupDirectory {
  private readonly api: string;
  private readonly tokenUrl: string;
  private readonly fetchFn: typeof fetch;
  private readonly now: () => number;
  private token: { value: string; until: number } | undefined;
  private readonly answers = new Map<string, { member: boolean; until: number }>();
  private readonly groupNames = new Map<string, string>();

  constructor(options: CloudIdentityGroupsOptions = {}) {
    this.api = (options.apiUrl ?? CLOUD_IDENTITY).replace(/\/$/, "");
    this.tokenUrl = options.tokenUrl ?? METADATA_TOKEN;
    this.fetchFn = options.fetch ?? fetch;
    this.now = options.now ?? Date.now;
  }

  async isMember(group: string, email: string): Promise<boolean> {
    const key = `${group.toLowerCase()}\n${email.toLowerCase()}`;
    const cached = this.answers.get(key);
    if (cached && cached.until > this.now()) return cached.member;
    const name = await this.groupName(group);
    const query = encodeURIComponent(`member_key_id == '${email.replace(/'/g, "")}'`);
    const body = (await this.call(
      `${this.api}/${name}/memberships:checkTransitiveMembership?query=${query}`,
    )) as {
      hasMembership?: boolean;
    };
    const member = body.hasMembership === true;
    this.answers.set(key, { member, until: this.now() + CACHE_MS });
    return member;
  }

  /** "groups/<id>" of a group email (groups:lookup), kept for the life of the instance. */
  private async groupName(group: string): Promise<string> {
    const known = this.groupNames.get(group.toLowerCase());
    if (known) return known;
    const body = (await this.call(`${this.api}/groups:lookup?groupKey.id=${encodeURIComponent(group)}`)) as {
      name?: string;
    };
    if (!body.name || !/^groups\/[^/]+$/.test(body.name))
      throw new Error(`Cloud Identity gave no group name for ${group}`);
    this.groupNames.set(group.toLowerCase(), body.name);
    return body.name;
  }

  private async call(url: string): Promise<unknown> {
    const res = await this.fetchFn(url, { headers: { authorization: `Bearer ${await this.accessToken()}` } });
    if (!res.ok) {
      // The status and the API's own reason; never the token.
      const reason = await res.text().then(
        (t) => /"message"\s*:\s*"([^"]{0,200})/.exec(t)?.[1] ?? "",
        () => "",
      );
      throw new Error(
        `Cloud Identity answered ${res.status}${reason ? `: ${reason}` : ""} (${new URL(url).pathname})`,
      );
    }
    return res.json();
  }

  private async accessToken(): Promise<string> {
    if (this.token && this.token.until > this.now()) return this.token.value;
    const url = `${this.tokenUrl}?scopes=${encodeURIComponent("https://www.googleapis.com/auth/cloud-identity.groups.readonly")}`;
    const res = await this.fetchFn(url, { headers: { "metadata-flavor": "Google" } });
    if (!res.ok) throw new Error(`the metadata server gave no access token (${res.status})`);
    const body = (await res.json()) as { access_token?: string; expires_in?: number };
    if (!body.access_token) throw new Error("the metadata server's answer has no access_token");
    this.token = {
      value: body.access_token,
      until: this.now() + Math.max(0, (body.expires_in ?? 300) - 60) * 1000,
    };
    return body.access_token;
  }
}
