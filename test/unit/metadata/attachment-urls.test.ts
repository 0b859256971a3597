// Which links in a body count as attachments of the repository, and how each is kept: a table of
// bodies, the links they hold, and the ones that must not count.
import { describe, expect, it } from "vitest";
import {
  attachmentLinks,
  userContentHostsFor,
  type UserContentHosts,
} from "../../../functions/adapters/github/attachment-urls.js";

const GITHUB = userContentHostsFor(new URL("https://api.github.com"));
const GHES = userContentHostsFor(new URL("https://ghe.example.com/api/v3"));
const REPO = "Acme/App";
const UUID = "5ff826ef-1ddd-4c43-a3e2-94414b42fc00";

const links = (text: string, hosts: UserContentHosts = GITHUB, repo = REPO) =>
  attachmentLinks(text, repo, hosts).map((l) => l.url);

describe("attachment links", () => {
  const count: [string, string, string[]][] = [
    [
      "an image, 2024 form",
      `![shot](https://github.com/user-attachments/assets/${UUID})`,
      [`https://github.com/user-attachments/assets/${UUID}`],
    ],
    [
      "an HTML image",
      `<img width="300" alt="x" src="https://github.com/user-attachments/assets/${UUID}" />`,
      [`https://github.com/user-attachments/assets/${UUID}`],
    ],
    [
      "a file, 2024 form",
      "[log.txt](https://github.com/user-attachments/files/17263110/log.txt)",
      ["https://github.com/user-attachments/files/17263110/log.txt"],
    ],
    [
      "this repository's image, 2023 form",
      `https://github.com/acme/app/assets/142635249/${UUID}`,
      [`https://github.com/acme/app/assets/142635249/${UUID}`],
    ],
    [
      "this repository's file, older form, then a full stop",
      "See https://github.com/Acme/App/files/6792255/vgatest.exe.zip.",
      ["https://github.com/Acme/App/files/6792255/vgatest.exe.zip"],
    ],
    [
      "an old image",
      "![a](https://user-images.githubusercontent.com/452325/121538101-09e2e500-c9f4-11eb-9560-a16da9728f47.png)",
      ["https://user-images.githubusercontent.com/452325/121538101-09e2e500-c9f4-11eb-9560-a16da9728f47.png"],
    ],
    [
      "a private image: its JWT is not kept",
      "https://private-user-images.githubusercontent.com/1/265130289-56ac.jpg?jwt=eyJhbGciOi.x.y",
      ["https://private-user-images.githubusercontent.com/1/265130289-56ac.jpg"],
    ],
    [
      "the same image twice, once with a fragment: kept once",
      `https://github.com/user-attachments/assets/${UUID} and (https://github.com/user-attachments/assets/${UUID}#top)`,
      [`https://github.com/user-attachments/assets/${UUID}`],
    ],
    [
      "a link in a code block still counts (it is on GitHub all the same)",
      "```\nhttps://user-images.githubusercontent.com/1/a.png\n```",
      ["https://user-images.githubusercontent.com/1/a.png"],
    ],
  ];
  it.each(count)("counts %s", (_what, text, expected) => expect(links(text)).toEqual(expected));

  const ignore: [string, string][] = [
    ["a plain github.com link", "https://github.com/acme/app/blob/main/docs/shot.png"],
    ["an issue link", "https://github.com/acme/app/issues/12"],
    ["another repository's image", `https://github.com/other/repo/assets/1/${UUID}`],
    ["another repository's file", "https://github.com/other/repo/files/1/x.zip"],
    ["a release download (a release asset)", "https://github.com/acme/app/releases/download/v1/app.tgz"],
    ["an image on another host", "![x](https://example.com/user-attachments/assets/" + UUID + ")"],
    ["a camo proxy", "https://camo.githubusercontent.com/abc/68747470"],
    ["an avatar", "https://avatars.githubusercontent.com/u/1?v=4"],
    ["raw content", "https://raw.githubusercontent.com/acme/app/main/shot.png"],
    ["plain http", `http://github.com/user-attachments/assets/${UUID}`],
    ["no id", "https://github.com/user-attachments/assets/"],
    ["not a uuid", "https://github.com/user-attachments/assets/abc1234"],
    ["a look-alike host", `https://github.com.evil.example/user-attachments/assets/${UUID}`],
    ["nothing", ""],
  ];
  it.each(ignore)("ignores %s", (_what, text) => expect(links(text)).toEqual([]));

  it("knows a GitHub Enterprise Server's hosts, and github.com's are not its own", () => {
    expect(GHES).toEqual({ web: "https://ghe.example.com", images: ["https://media.ghe.example.com"] });
    expect(
      links(
        `https://ghe.example.com/user-attachments/assets/${UUID} https://ghe.example.com/storage/user/3/files/${UUID} ` +
          `https://media.ghe.example.com/user/3/files/${UUID} https://github.com/user-attachments/assets/${UUID}`,
        GHES,
      ),
    ).toEqual([
      `https://ghe.example.com/user-attachments/assets/${UUID}`,
      `https://ghe.example.com/storage/user/3/files/${UUID}`,
      `https://media.ghe.example.com/user/3/files/${UUID}`,
    ]);
  });

  it("says which need the token and which are images, and asks for a pasted JWT link as written", () => {
    const found = attachmentLinks(
      `https://github.com/user-attachments/files/1/a.pdf https://github.com/user-attachments/assets/${UUID} ` +
        "https://private-user-images.githubusercontent.com/1/b.png?jwt=abc",
      REPO,
      GITHUB,
    );
    expect(found.map((l) => [l.web, l.image])).toEqual([
      [true, false],
      [true, true],
      [false, true],
    ]);
    expect(found[2]!.fetch).toBe("https://private-user-images.githubusercontent.com/1/b.png?jwt=abc");
  });
});
