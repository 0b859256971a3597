// Which links in a body are GitHub attachments: files and images uploaded into an issue, pull
// request, comment, review, release or discussion, kept on GitHub's user-content hosts. Pure rules
// over text; nothing is fetched here.
//
// The forms (github.com; a GitHub Enterprise Server has the same paths on its own host):
//   <web>/user-attachments/assets/<uuid>             images and videos, since 2024
//   <web>/user-attachments/files/<id>/<name>          other files, since 2024
//   <web>/<owner>/<repo>/assets/<user id>/<uuid>      images, 2023-2024 (this repository's only)
//   <web>/<owner>/<repo>/files/<id>/<name>            files, until 2024 (this repository's only)
//   https://user-images.githubusercontent.com/<user id>/<name>           images, until 2023
//   https://private-user-images.githubusercontent.com/<user id>/<name>   the same, behind a JWT
//   <web>/storage/user/<id>/files/<uuid>, https://media.<host>/user/<id>/files/<uuid>   GHES images
// Not attachments: other github.com pages (blob, raw, issues), avatars, camo (proxied outside
// images), release downloads (kept as release assets), and any other host.

/** Where a GitHub's user content lives. */
export interface UserContentHosts {
  /** The web origin ("https://github.com"): attachments there are asked for with the installation token. */
  web: string;
  /** Origins that serve uploaded images themselves, never given the token. */
  images: readonly string[];
}

export interface AttachmentLink {
  /** The link as the archive keeps it: no fragment, no `jwt` grant. */
  url: string;
  /** What to ask for: the link as written (a `jwt` a user pasted along may still be valid). */
  fetch: string;
  /** On the web origin: asked for with the installation token. */
  web: boolean;
  /** An image or video (not a file): GitHub can sign it for us when the token is not enough. */
  image: boolean;
}

/** The user-content hosts of the GitHub whose REST API is at `apiBase`. */
export function userContentHostsFor(apiBase: URL): UserContentHosts {
  if (apiBase.hostname === "api.github.com")
    return {
      web: "https://github.com",
      images: [
        "https://user-images.githubusercontent.com",
        "https://private-user-images.githubusercontent.com",
      ],
    };
  // A GitHub Enterprise Server ("https://host/api/v3"): media.<host> with subdomain isolation.
  return { web: apiBase.origin, images: [`${apiBase.protocol}//media.${apiBase.host}`] };
}

const UUID = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}";
const NAME = "[^/?#]+";
const WEB_ANY_REPO = [
  new RegExp(`^/user-attachments/assets/${UUID}$`),
  new RegExp(`^/user-attachments/files/\\d+/${NAME}$`),
  new RegExp(`^/storage/user/\\d+/files/${UUID}$`),
];
const IMAGE_PATHS = [new RegExp(`^/\\d+/${NAME}$`), new RegExp(`^/user/\\d+/files/${NAME}$`)];

/** Candidate URLs: up to a space, a quote, a bracket or an angle bracket (markdown and HTML alike). */
const CANDIDATE = /https?:\/\/[^\s"'`<>()[\]{}|\\^]+/g;
/** Sentence punctuation and markdown emphasis after a link are not part of it. */
const TRAILING = /[.,;:!?*_~]+$/;

/**
 * The attachment links of `text` for repository `repo` ("owner/name"), each once, in order.
 * A link into another repository's attachments is that repository's, not this one's.
 */
export function attachmentLinks(
  text: string | null | undefined,
  repo: string,
  hosts: UserContentHosts,
): AttachmentLink[] {
  if (!text) return [];
  const [owner = "", name = ""] = repo.toLowerCase().split("/");
  const images = new Set(hosts.images);
  const seen = new Set<string>();
  const links: AttachmentLink[] = [];
  for (const match of text.matchAll(CANDIDATE)) {
    let url: URL;
    try {
      url = new URL(match[0].replace(TRAILING, ""));
    } catch {
      continue;
    }
    const path = url.pathname;
    let web = false;
    let image = false;
    if (url.origin === hosts.web) {
      const segments = path.split("/");
      const ours = segments[1]?.toLowerCase() === owner && segments[2]?.toLowerCase() === name;
      const repoScoped =
        ours &&
        (new RegExp(`^/[^/]+/[^/]+/assets/\\d+/${UUID}$`).test(path) ||
          new RegExp(`^/[^/]+/[^/]+/files/\\d+/${NAME}$`).test(path));
      if (!repoScoped && !WEB_ANY_REPO.some((p) => p.test(path))) continue;
      web = true;
      image = !/\/files\/\d+\//.test(path);
    } else if (images.has(url.origin) && IMAGE_PATHS.some((p) => p.test(path))) {
      image = true;
    } else continue;
    const fetch = url.href;
    url.hash = "";
    url.searchParams.delete("jwt");
    const key = url.href;
    if (seen.has(key)) continue;
    seen.add(key);
    links.push({ url: key, fetch, web, image });
  }
  return links;
}
