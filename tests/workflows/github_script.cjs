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

const rest = {
  issues: {
    listComments: async (p) => ok(world.comments.filter((c) => c.issue_number === Number(p.issue_number))),
    createComment: async (p) => {
      record("issues.createComment", p);
      const c = { id: nextId(), issue_number: Number(p.issue_number), body: p.body, user: { type: "Bot" } };
      c.html_url = url("comments", c.id);
      world.comments.push(c);
      return ok(c);
    },
    updateComment: async (p) => {
      record("issues.updateComment", p);
      const c = world.comments.find((x) => x.id === p.comment_id);
      c.body = p.body;
      return ok(c);
    },
    listForRepo: async (p) =>
      ok(world.issues.filter((i) => (!p.state || i.state === p.state) &&
        (!p.labels || i.labels.some((l) => l.name === p.labels)))),
    create: async (p) => {
      record("issues.create", p);
      const i = { number: nextId(), title: p.title, body: p.body, state: "open",
        labels: (p.labels || []).map((name) => ({ name })) };
      i.html_url = url("issues", i.number);
      world.issues.push(i);
      return ok(i);
    },
    update: async (p) => {
      record("issues.update", p);
      const i = issueOf(p.issue_number);
      for (const key of ["body", "state", "title"]) if (p[key] !== undefined) i[key] = p[key];
      return ok(i);
    },
    createLabel: async (p) => {
      if (world.labels.includes(p.name)) throw Object.assign(new Error("exists"), { status: 422 });
      world.labels.push(p.name);
      return ok({ name: p.name });
    },
  },
  repos: {
    listPullRequestsAssociatedWithCommit: async (p) =>
      ok(world.pulls.filter((pr) => pr.merge_commit_sha === p.commit_sha || pr.head.sha === p.commit_sha)),
  },
  actions: {
    listArtifactsForRepo: async (p) => {
      const artifacts = world.artifacts.filter((a) => !p.name || a.name === p.name);
      return ok({ total_count: artifacts.length, artifacts });
    },
    getWorkflowRun: async (p) => ok(world.runs[String(p.run_id)]),
  },
  pulls: {
    list: async (p) => ok(world.pulls.filter((pr) => pr.state === (p.state || "open") &&
      (!p.head || `${context.repo.owner}:${pr.head.ref}` === p.head))),
    create: async (p) => {
      record("pulls.create", p);
      const pr = { number: nextId(), title: p.title, body: p.body, state: "open",
        head: { ref: p.head, sha: "" }, base: { ref: p.base } };
      pr.html_url = url("pull", pr.number);
      world.pulls.push(pr);
      return ok(pr);
    },
    update: async (p) => {
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
