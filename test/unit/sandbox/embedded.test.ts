/**
 * The embedded launchers' pure parts and process bookkeeping: identities and the token file, the
 * apiserver's flags, error lines drawn from logs, and the registry that lets a test run prove it left
 * no process behind. Children here are `sleep`, so the tier stays offline and fast.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { explainFromLog, launchProcess, logShowsPortClash } from "../../../sandbox/child-process.ts";
import {
  apiserverArgs,
  BUILT_IN_IDENTITIES,
  etcdArgs,
  kubeconfigDocument,
  resolveIdentities,
  tokenAuthFile,
} from "../../../sandbox/control-plane-config.ts";
import { EmbeddedSetupError } from "../../../sandbox/errors.ts";
import {
  findLiveProcesses,
  isRecordedProcessAlive,
  listRecordedProcesses,
  PROCESS_REGISTRY_DIR_ENV,
  RUN_ID_ENV,
  reapOrphanedProcesses,
} from "../../../sandbox/process-registry.ts";
import { seedNodes, seedService } from "../../harness/kube-fixtures.ts";

const SLEEP = "/bin/sleep";
const ports = { etcdClient: 20001, etcdPeer: 20002, apiserver: 20003 };

describe("identities", () => {
  it("puts the built-in admin and unprivileged identities first", () => {
    const all = resolveIdentities([{ name: "controller", user: "system:serviceaccount:lbp:lbp", groups: [] }]);
    expect(all.map((identity) => [identity.name, identity.user, identity.groups])).toEqual([
      ["admin", "lbp-admin", ["system:masters"]],
      ["unprivileged", "lbp-unprivileged", []],
      ["controller", "system:serviceaccount:lbp:lbp", []],
    ]);
  });

  it.each([
    [{ name: "admin", user: "x", groups: [] }, 'identities[0].name "admin" is already taken'],
    [{ name: "Bad_Name", user: "x", groups: [] }, 'identities[0].name "Bad_Name" must be lower-case'],
    [{ name: "ok", user: "", groups: [] }, "identities[0].user must be non-empty"],
    [{ name: "ok", user: "x", groups: ["a,b"] }, "identities[0].groups[0] must be non-empty and contain no comma"],
  ])("rejects %j naming the field", (identity, message) => {
    expect(() => resolveIdentities([identity])).toThrow(EmbeddedSetupError);
    expect(() => resolveIdentities([identity])).toThrow(message);
  });

  it("writes one token line per identity, groups quoted, none for an identity without groups", () => {
    const file = tokenAuthFile([
      { ...(BUILT_IN_IDENTITIES[0] as (typeof BUILT_IN_IDENTITIES)[0]), token: "t1" },
      { ...(BUILT_IN_IDENTITIES[1] as (typeof BUILT_IN_IDENTITIES)[1]), token: "t2" },
      { name: "sa", user: "system:serviceaccount:a:b", groups: ["system:serviceaccounts", "g2"], token: "t3" },
    ]);
    expect(file).toBe(
      't1,lbp-admin,lbp-admin,"system:masters"\nt2,lbp-unprivileged,lbp-unprivileged\nt3,system:serviceaccount:a:b,system:serviceaccount:a:b,"system:serviceaccounts,g2"\n',
    );
  });

  it("writes a kubeconfig whose context authenticates with the identity's token", () => {
    const doc = JSON.parse(
      kubeconfigDocument("https://127.0.0.1:1", "PEM", { name: "admin", user: "u", groups: [], token: "tok" }),
    );
    expect(doc["current-context"]).toBe("admin");
    expect(doc.users).toEqual([{ name: "admin", user: { token: "tok" } }]);
    expect(doc.clusters[0].cluster["certificate-authority-data"]).toBe(Buffer.from("PEM").toString("base64"));
  });
});

describe("command lines", () => {
  it("runs kube-apiserver with RBAC, token auth, the NodePort range and no ServiceAccount admission", () => {
    const args = apiserverArgs(ports, {
      certDir: "/d/certs",
      tokenAuthFile: "/d/tokens.csv",
      serviceAccountPublicKey: "/d/sa.pub",
      serviceAccountSigningKey: "/d/sa.key",
    });
    expect(args).toEqual(
      expect.arrayContaining([
        "--etcd-servers=http://127.0.0.1:20001",
        "--secure-port=20003",
        "--bind-address=127.0.0.1",
        "--authorization-mode=RBAC",
        "--token-auth-file=/d/tokens.csv",
        "--service-node-port-range=30000-32767",
        "--disable-admission-plugins=ServiceAccount",
        "--service-account-issuer=https://127.0.0.1:20003/",
        "--service-account-signing-key-file=/d/sa.key",
      ]),
    );
  });

  it("keeps etcd on loopback without fsync", () => {
    expect(etcdArgs(ports, "/d/etcd")).toEqual(
      expect.arrayContaining([
        "--listen-client-urls=http://127.0.0.1:20001",
        "--listen-peer-urls=http://127.0.0.1:20002",
        "--unsafe-no-fsync=true",
      ]),
    );
  });
});

describe("errors drawn from logs", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "lbp-unit-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("picks the last error line, flattened to one line", () => {
    const log = join(dir, "apiserver.log");
    writeFileSync(log, 'I0101 started\nE0101 12:00 run.go:72] "command failed" err="bad flag"\nI0101 exiting\n');
    expect(explainFromLog(log)).toBe('E0101 12:00 run.go:72] "command failed" err="bad flag"');
  });

  it("recognises a port clash", () => {
    const log = join(dir, "etcd.log");
    writeFileSync(log, '{"level":"fatal","msg":"listen tcp 127.0.0.1:2379: bind: address already in use"}\n');
    expect(logShowsPortClash(log)).toBe(true);
    writeFileSync(log, "all good\n");
    expect(logShowsPortClash(log)).toBe(false);
  });

  it("keeps error messages to one line", () => {
    expect(new EmbeddedSetupError("etcd failed:\n  line two\n").message).toBe("etcd failed: line two");
  });
});

describe("process registry", () => {
  let dir: string;
  const saved = { registry: process.env[PROCESS_REGISTRY_DIR_ENV], runId: process.env[RUN_ID_ENV] };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "lbp-pids-"));
    process.env[PROCESS_REGISTRY_DIR_ENV] = dir;
    process.env[RUN_ID_ENV] = "unit-run";
  });
  afterEach(() => {
    for (const [key, value] of [
      [PROCESS_REGISTRY_DIR_ENV, saved.registry],
      [RUN_ID_ENV, saved.runId],
    ] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it("records a launched child under the run and forgets it once stopped", async () => {
    const child = await launchProcess({ name: "sleeper", executable: SLEEP, args: ["30"], logPath: join(dir, "log") });
    const [record] = listRecordedProcesses();
    expect(record).toMatchObject({ pid: child.pid, name: "sleeper", ownerPid: process.pid, runId: "unit-run" });
    expect(findLiveProcesses("unit-run").map((live) => live.pid)).toEqual([child.pid]);
    expect(findLiveProcesses("unit-run", process.pid)).toEqual([]);

    await child.stop();
    expect(child.exit?.signal).toBe("SIGTERM");
    expect(listRecordedProcesses()).toEqual([]);
    expect(record && isRecordedProcessAlive(record)).toBe(false);
  });

  it("reaps a child whose owner died, and leaves children of live owners alone", async () => {
    const owner = spawn(SLEEP, ["0"]);
    await new Promise((resolve) => owner.once("exit", resolve));
    const orphan = spawn(SLEEP, ["30"], { detached: true, stdio: "ignore" });
    const orphanExit = new Promise((resolve) => orphan.once("exit", (_code, signal) => resolve(signal)));
    const record = { pid: orphan.pid, name: "orphan", executable: SLEEP, startedAt: new Date().toISOString() };
    writeFileSync(join(dir, `${orphan.pid}.json`), JSON.stringify({ ...record, ownerPid: owner.pid }));
    const kept = await launchProcess({ name: "kept", executable: SLEEP, args: ["30"], logPath: join(dir, "log") });
    try {
      expect(reapOrphanedProcesses().map((reaped) => reaped.pid)).toEqual([orphan.pid]);
      expect(await orphanExit).toBe("SIGKILL");
      expect(listRecordedProcesses().map((left) => left.pid)).toEqual([kept.pid]);
    } finally {
      await kept.stop();
    }
  });

  it("fails clearly for a missing executable", async () => {
    await expect(
      launchProcess({ name: "ghost", executable: join(dir, "nope"), args: [], logPath: join(dir, "log") }),
    ).rejects.toThrow(`ghost: ${join(dir, "nope")} is missing or not executable`);
  });
});

describe("seed fixtures", () => {
  it("builds node-1..3 at 192.168.1.2-.4 and the NodePort Service on 30008", () => {
    const nodes = seedNodes();
    expect(nodes.map((node) => [node.metadata?.name, node.status?.addresses?.[0]?.address])).toEqual([
      ["node-1", "192.168.1.2"],
      ["node-2", "192.168.1.3"],
      ["node-3", "192.168.1.4"],
    ]);
    const service = seedService();
    expect(service.metadata).toEqual({ name: "myapp-service", namespace: "default" });
    expect(service.spec?.ports).toEqual([{ protocol: "TCP", port: 80, targetPort: 80, nodePort: 30008 }]);
    expect(service.spec?.selector).toEqual({ app: "myapp", type: "myapp-front" });
    expect(seedService({ nodePort: null }).spec?.ports?.[0]).not.toHaveProperty("nodePort");
  });
});
