/**
 * Replays a Dockerfile's stages with plain commands on this machine, for checking the container's
 * runtime layout where no Docker engine runs. Each stage gets its own directory standing for its root
 * filesystem; `COPY` honours `.dockerignore`, `RUN` runs through `sh -c` in the stage's working
 * directory, and the last stage's `ENTRYPOINT` can then be run with its `ENV` and, when this process is
 * root, its numeric `USER`. The base images are not reproduced: the replay uses this machine's node and
 * npm, which is what "reproducible with plain npm/node commands" asks of the Dockerfile.
 *
 * Supports the instructions this project's Dockerfile uses: FROM, WORKDIR, COPY [--from], RUN (shell
 * form), ENV, USER, ENTRYPOINT (exec form). Anything else fails the replay, so the check cannot pass
 * by silently skipping a step.
 *
 * @module
 */
import { spawn } from "node:child_process";
import { chmodSync, copyFileSync, cpSync, existsSync, linkSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { basename, join, matchesGlob, relative } from "node:path";

/** One stage after replay. */
export interface ReplayedStage {
  readonly name: string;
  /** Directory standing for the stage's `/`. */
  readonly root: string;
  /** Absolute path inside the stage (`/app`). */
  readonly workdir: string;
  readonly env: Readonly<Record<string, string>>;
  readonly user?: string;
  readonly entrypoint?: readonly string[];
}

/** What to replay. */
export interface ReplayOptions {
  /** The build context (the repository). */
  readonly contextDir: string;
  /** Directory to create the stage roots in; must be empty and world-readable for `USER` to work. */
  readonly workDir: string;
  /** Extra environment for `RUN` steps (e.g. npm's offline preference). */
  readonly runEnv?: Readonly<Record<string, string>>;
  /** Receives each step as it starts. */
  readonly onStep?: (step: string) => void;
}

interface Instruction {
  readonly keyword: string;
  readonly args: string;
  readonly line: number;
}

/** Instructions of a Dockerfile: comments dropped, continuation lines joined. */
export function parseDockerfile(text: string): Instruction[] {
  const instructions: Instruction[] = [];
  let pending = "";
  let startLine = 0;
  text.split("\n").forEach((raw, index) => {
    const line = raw.trim();
    if (!pending && (line === "" || line.startsWith("#"))) return;
    if (!pending) startLine = index + 1;
    if (line.endsWith("\\")) {
      pending += `${line.slice(0, -1)} `;
      return;
    }
    const full = pending + line;
    pending = "";
    const match = /^(\S+)\s*(.*)$/.exec(full);
    if (match)
      instructions.push({ keyword: (match[1] as string).toUpperCase(), args: match[2] ?? "", line: startLine });
  });
  return instructions;
}

/** The `NAME=value` pairs of an ENV instruction's arguments, quotes removed. */
function envPairs(args: string): Array<[string, string]> {
  return (args.match(/\S+=("[^"]*"|\S*)/g) ?? []).map((pair) => {
    const at = pair.indexOf("=");
    return [pair.slice(0, at), pair.slice(at + 1).replace(/^"|"$/g, "")];
  });
}

/** The environment the last stage sets: what the image's ENTRYPOINT runs with. */
export function imageEnvironment(dockerfileText: string): Record<string, string> {
  let env: Record<string, string> = {};
  for (const { keyword, args } of parseDockerfile(dockerfileText)) {
    if (keyword === "FROM") env = {};
    else if (keyword === "ENV") Object.assign(env, Object.fromEntries(envPairs(args)));
  }
  return env;
}

function dockerignorePatterns(contextDir: string): string[] {
  const file = join(contextDir, ".dockerignore");
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith("#"))
    .map((line) => line.replace(/^\/+/, "").replace(/\/+$/, ""));
}

/** Runs every stage of `dockerfile` and returns them in order; the last one is the image. */
export async function replayDockerfile(dockerfile: string, options: ReplayOptions): Promise<ReplayedStage[]> {
  const ignored = dockerignorePatterns(options.contextDir);
  const isIgnored = (path: string): boolean => {
    const rel = relative(options.contextDir, path);
    if (rel === "") return false;
    if (ignored.some((pattern) => pattern.startsWith("!"))) {
      throw new Error(".dockerignore exceptions (!pattern) are not supported by the replay");
    }
    return ignored.some((pattern) => matchesGlob(rel, pattern));
  };

  const stages: ReplayedStage[] = [];
  let stage:
    | { name: string; root: string; workdir: string; env: Record<string, string>; user?: string; entrypoint?: string[] }
    | undefined;
  const finish = (): void => {
    if (stage) stages.push({ ...stage });
  };
  for (const { keyword, args, line } of parseDockerfile(readFileSync(dockerfile, "utf8"))) {
    const where = `Dockerfile:${line} ${keyword}`;
    if (keyword === "FROM") {
      finish();
      const name = /\sAS\s+(\S+)/i.exec(args)?.[1] ?? `stage-${stages.length}`;
      const root = join(options.workDir, name);
      mkdirSync(root, { recursive: true });
      chmodSync(root, 0o755);
      stage = { name, root, workdir: "/", env: {} };
      options.onStep?.(`${where} ${args}`);
      continue;
    }
    if (!stage) throw new Error(`${where}: instruction before FROM`);
    const current = stage;
    const inStage = (path: string): string =>
      join(current.root, path.startsWith("/") ? path : join(current.workdir, path));
    options.onStep?.(`${where} ${args}`);
    switch (keyword) {
      case "WORKDIR":
        stage.workdir = args.startsWith("/") ? args : join(stage.workdir, args);
        mkdirSync(inStage(stage.workdir), { recursive: true });
        break;
      case "ENV":
        Object.assign(stage.env, Object.fromEntries(envPairs(args)));
        break;
      case "USER":
        stage.user = args;
        break;
      case "ENTRYPOINT":
        stage.entrypoint = JSON.parse(args) as string[];
        break;
      case "COPY": {
        const words = args.split(/\s+/);
        const from = words[0]?.startsWith("--from=") ? words.shift()?.slice("--from=".length) : undefined;
        if (words.some((word) => word.startsWith("--"))) throw new Error(`${where}: unsupported COPY flag`);
        const dest = words.pop() as string;
        const source = from ? stages.find((candidate) => candidate.name === from) : undefined;
        if (from && !source) throw new Error(`${where}: no earlier stage named ${from}`);
        const sources = words.map((word) => (source ? join(source.root, word) : join(options.contextDir, word)));
        const destPath = inStage(dest);
        const intoDir = dest.endsWith("/") || sources.length > 1;
        for (const src of sources) {
          if (!existsSync(src) || (!source && isIgnored(src)))
            throw new Error(`${where}: ${src} is not in the context`);
          const target = statSync(src).isDirectory() || !intoDir ? destPath : join(destPath, basename(src));
          cpSync(src, target, { recursive: true, filter: (path) => Boolean(source) || !isIgnored(path) });
        }
        break;
      }
      case "RUN":
        if (args.startsWith("[")) throw new Error(`${where}: exec-form RUN is not supported`);
        await run("sh", ["-c", args], inStage(stage.workdir), { ...stage.env, ...options.runEnv }, where);
        break;
      default:
        throw new Error(`${where}: not supported by the replay`);
    }
  }
  finish();
  return stages;
}

/** Result of running a stage's entrypoint. */
export interface EntrypointRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the stage's `ENTRYPOINT` plus `args` in its working directory with its `ENV`, as its numeric
 * `USER` when this process may switch users (root). `HOME` is `home` (an empty directory) and `PATH`
 * starts with `home/bin`, holding this process's own `node`: the image's user must be able to run it,
 * and this machine's node may live where that user cannot read (under /root).
 */
export function runEntrypoint(stage: ReplayedStage, args: readonly string[], home: string): Promise<EntrypointRun> {
  const [command, ...rest] = stage.entrypoint ?? [];
  if (!command) throw new Error(`stage ${stage.name} has no ENTRYPOINT`);
  const [uid, gid] = (stage.user ?? "").split(":").map(Number);
  const switchUser = process.getuid?.() === 0 && Number.isInteger(uid);
  const bin = join(home, "bin");
  mkdirSync(bin, { recursive: true });
  // Once per home: copying over an existing hard link would write onto this process's own node binary.
  if (!existsSync(join(bin, "node"))) {
    try {
      linkSync(process.execPath, join(bin, "node"));
    } catch {
      copyFileSync(process.execPath, join(bin, "node"));
    }
  }
  for (const dir of [home, bin]) chmodSync(dir, 0o755);
  const child = spawn(command, [...rest, ...args], {
    cwd: join(stage.root, stage.workdir),
    env: { PATH: `${bin}:/usr/local/bin:/usr/bin:/bin`, HOME: home, ...stage.env },
    ...(switchUser ? { uid: uid as number, gid: Number.isInteger(gid) ? (gid as number) : (uid as number) } : {}),
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

function run(command: string, args: string[], cwd: string, env: Record<string, string>, where: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const keep = (chunk: Buffer): void => {
      output = (output + chunk.toString("utf8")).slice(-4_000);
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    child.once("error", reject);
    child.once("close", (code) =>
      code === 0 ? resolve() : reject(new Error(`${where} exited with ${code}:\n${output}`)),
    );
  });
}
