// Runs an actions/github-script script locally, against a fake GitHub API kept in a JSON file.
// Usage: node github_script.cjs SCRIPT_FILE WORLD_JSON CONTEXT_JSON
// The fake answers only the calls the workflows make; any other call fails the script loudly.
"use strict";
const fs = require("node:fs");

const [, , scriptFile, worldFile, contextFile] = process.argv;
const world = JSON.parse(fs.readFileSync(worldFile, "utf8"));
const save = () => fs.writeFileSync(worldFile, JSON.stringify(world, null, 2));
const context = JSON.parse(fs.readFileSync(contextFile, "utf8"));
const url = (kind, n) => `https://github.example/${context.repo.owner}/${context.repo.repo}/${kind}/${n}`;
const nextId = () => (world.next_id += 1);
const ok = (data) => ({ status: 200, data });
const issueOf = (n) => {
  const found = world.issues.find((i) => i.number === Number(n));
  if (!found) throw Object.assign(new Error(`no issue #${n}`), { status: 404 });
  return found;
};
const record = (call, params) => world.calls.push({ call, params });

// GITHUB_TOKEN can do what the job's `permissions` grant (write implies read; a scope left out
// of a `permissions` block is none); with no block anywhere, the repository default (all).
const LEVELS = { none: 0, read: 1, write: 2 };
const allowed = (scope, level) => {
  const granted = context.permissions;
  if (granted === null || granted === undefined) return true;
  if (typeof granted === "string") return LEVELS[granted.replace("-all", "")] >= LEVELS[level];
  return (LEVELS[granted[scope] || "none"] || 0) >= LEVELS[level];
};
const need = (call, ...alternatives) => {
  if (alternatives.some(([scope, level]) => allowed(scope, level))) return;
  world.denied = (world.denied || []).concat([call]);
  throw Object.assign(new Error(`Resource not accessible by integration (${call})`), { status: 403 });
};
// A pull request follows its branch, as on GitHub: its head is the branch's tip now.
const { execFileSync } = require("node:child_process");
const git = (...args) => execFileSync("git", ["--git-dir", context.origin, ...args], { encoding: "utf8" }).trim();
const follow = (pr) => {
  if (!context.origin || pr.state !== "open") return pr;
  try {
    pr.head.sha = git("rev-parse", `refs/heads/${pr.head.ref}`);
    pr._files = git("diff", "--name-only", `refs/heads/${pr.base.ref}...refs/heads/${pr.head.ref}`)
      .split("\n").filter(Boolean);
  } catch (error) {
    // The branch is gone: GitHub keeps the last head.
  }
  return pr;
};
const publicPull = (pr) => Object.fromEntries(Object.entries(pr).filter(([k]) => !k.startsWith("_")));

const rest = {
  issues: {
    listComments: async (p) => need("issues.listComments", ["issues", "read"], ["pull-requests", "read"]) || ok(world.comments.filter((c) => c.issue_number === Number(p.issue_number))),
    createComment: async (p) => {
      need("issues.createComment", ["issues", "write"], ["pull-requests", "write"]);
      record("issues.createComment", p);
      const c = { id: nextId(), issue_number: Number(p.issue_number), body: p.body, user: { type: "Bot" } };
      c.html_url = url("comments", c.id);
      world.comments.push(c);
      return ok(c);
    },
    updateComment: async (p) => {
      need("issues.updateComment", ["issues", "write"], ["pull-requests", "write"]);
      record("issues.updateComment", p);
      const c = world.comments.find((x) => x.id === p.comment_id);
      c.body = p.body;
      return ok(c);
    },
    listForRepo: async (p) => need("issues.listForRepo", ["issues", "read"]) ||
      ok(world.issues.filter((i) => (!p.state || i.state === p.state) &&
        (!p.labels || i.labels.some((l) => l.name === p.labels)))),
    create: async (p) => {
      need("issues.create", ["issues", "write"]);
      record("issues.create", p);
      const i = { number: nextId(), title: p.title, body: p.body, state: "open",
        labels: (p.labels || []).map((name) => ({ name })) };
      i.html_url = url("issues", i.number);
      world.issues.push(i);
      return ok(i);
    },
    update: async (p) => {
      need("issues.update", ["issues", "write"]);
      record("issues.update", p);
      const i = issueOf(p.issue_number);
      for (const key of ["body", "state", "title"]) if (p[key] !== undefined) i[key] = p[key];
      return ok(i);
    },
    // The pull request's timeline of label events (who added or removed which label).
    listEvents: async (p) => need("issues.listEvents", ["issues", "read"], ["pull-requests", "read"]) ||
      ok((world.label_events || []).filter((ev) => ev.issue_number === Number(p.issue_number))
        .map(({ issue_number, ...ev }) => ev)),
    createLabel: async (p) => {
      need("issues.createLabel", ["issues", "write"]);
      if (world.labels.includes(p.name)) throw Object.assign(new Error("exists"), { status: 422 });
      world.labels.push(p.name);
      return ok({ name: p.name });
    },
  },
  repos: {
    get: async () => ok({ id: 1, full_name: `${context.repo.owner}/${context.repo.repo}`,
      default_branch: world.default_branch }),
    listPullRequestsAssociatedWithCommit: async (p) =>
      need("repos.listPullRequestsAssociatedWithCommit", ["contents", "read"], ["pull-requests", "read"]) ||
      ok(world.pulls.filter((pr) => pr.merge_commit_sha === p.commit_sha || pr.head.sha === p.commit_sha)
        .map(publicPull)),
  },
  actions: {
    listArtifactsForRepo: async (p) => {
      need("actions.listArtifactsForRepo", ["actions", "read"]);
      const artifacts = world.artifacts.filter((a) => !p.name || a.name === p.name);
      return ok({ total_count: artifacts.length, artifacts });
    },
    getWorkflowRun: async (p) => {
      need("actions.getWorkflowRun", ["actions", "read"]);
      const run = world.runs[String(p.run_id)];
      if (!run) throw Object.assign(new Error(`no run ${p.run_id}`), { status: 404 });
      return ok(run);
    },
    // GET /repos/{owner}/{repo}/actions/runs/{run_id}/approvals: the environments' reviews.
    getReviewsForRun: async (p) => {
      need("actions.getReviewsForRun", ["actions", "read"]);
      return ok((world.deployment_reviews || []).filter((r) => String(r.run_id) === String(p.run_id))
        .map(({ run_id, ...r }) => r));
    },
    createWorkflowDispatch: async (p) => {
      need("actions.createWorkflowDispatch", ["actions", "write"]);
      record("actions.createWorkflowDispatch", p);
      world.dispatches.push({ workflow_id: p.workflow_id, ref: p.ref, inputs: p.inputs || {} });
      return { status: 204, data: undefined };
    },
  },
  pulls: {
    list: async (p) => need("pulls.list", ["pull-requests", "read"]) ||
      ok(world.pulls.filter((pr) => pr.state === (p.state || "open") &&
        (!p.head || `${context.repo.owner}:${pr.head.ref}` === p.head)).map(follow).map(publicPull)),
    get: async (p) => {
      need("pulls.get", ["pull-requests", "read"]);
      const pr = world.pulls.find((x) => x.number === Number(p.pull_number));
      if (!pr) throw Object.assign(new Error(`no pull request #${p.pull_number}`), { status: 404 });
      return ok(publicPull(follow(pr)));
    },
    listReviews: async (p) => need("pulls.listReviews", ["pull-requests", "read"]) ||
      ok((world.reviews || []).filter((r) => r.pull_number === Number(p.pull_number))
        .map(({ pull_number, ...r }) => r)),
    listFiles: async (p) => {
      need("pulls.listFiles", ["pull-requests", "read"]);
      const pr = world.pulls.find((x) => x.number === Number(p.pull_number));
      if (!pr) throw Object.assign(new Error(`no pull request #${p.pull_number}`), { status: 404 });
      return ok((follow(pr)._files || []).map((filename) => ({ filename, status: "modified" })));
    },
    create: async (p) => {
      need("pulls.create", ["pull-requests", "write"]);
      // The repository setting "Allow GitHub Actions to create and approve pull requests"
      // binds GITHUB_TOKEN only (off by default).
      if (context.token === "github" && !world.actions_may_open_pull_requests) {
        world.denied = (world.denied || []).concat(["pulls.create"]);
        throw Object.assign(new Error("GitHub Actions is not permitted to create or approve pull requests."), { status: 403 });
      }
      record("pulls.create", p);
      if (!p.base) throw Object.assign(new Error("Validation Failed: base is required"), { status: 422 });
      const repoRef = { id: 1, full_name: `${context.repo.owner}/${context.repo.repo}` };
      const pr = follow({ number: nextId(), title: p.title, body: p.body, state: "open",
        user: { login: "github-actions[bot]", type: "Bot" },
        head: { ref: p.head, sha: "", repo: repoRef }, base: { ref: p.base, sha: "", repo: repoRef },
        merge_commit_sha: null, merged_at: null });
      pr.html_url = url("pull", pr.number);
      world.pulls.push(pr);
      return ok(pr);
    },
    update: async (p) => {
      need("pulls.update", ["pull-requests", "write"]);
      record("pulls.update", p);
      const pr = world.pulls.find((x) => x.number === Number(p.pull_number));
      if (!pr) throw Object.assign(new Error(`no pull request #${p.pull_number}`), { status: 404 });
      for (const key of ["body", "state", "title"]) if (p[key] !== undefined) pr[key] = p[key];
      return ok(pr);
    },
  },
};

const strict = (obj, path) => new Proxy(obj, {
  get(target, name) {
    if (typeof name !== "string" || name in target || name === "then") return target[name];
    throw new Error(`the fake GitHub API has no ${path}.${name}`);
  },
});
const github = {
  rest: strict(Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, strict(v, k)])), "rest"),
  paginate: async (method, params) => {
    const { data } = await method(params);
    return Array.isArray(data) ? data : data.artifacts || [];
  },
};

const output = (name, value) =>
  fs.appendFileSync(process.env.GITHUB_OUTPUT, `${name}<<__OUT__\n${value}\n__OUT__\n`);
let buffer = "";
const core = {
  setOutput: output,
  info: (m) => console.log(m),
  notice: (m) => console.log(`::notice::${m}`),
  warning: (m) => console.log(`::warning::${m}`),
  error: (m) => console.log(`::error::${m}`),
  setFailed: (m) => { console.log(`::error::${m}`); process.exitCode = 1; },
  summary: {
    addRaw(text) { buffer += text; return this; },
    async write() { fs.appendFileSync(process.env.GITHUB_STEP_SUMMARY, buffer); buffer = ""; return this; },
  },
};

const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor;
const run = new AsyncFunction("github", "context", "core", "require", "process",
  fs.readFileSync(scriptFile, "utf8"));
run(github, context, core, require, process)
  .then(() => save())
  .catch((error) => {
    save();
    console.log(`::error::${error && error.message}`);
    console.error(error);
    process.exit(1);
  });
