/**
 * `deploy/iam-policy.json` grants exactly what the AWS provider can call: every operation in the
 * client's table (and the table lists every SDK command the provider's source sends), nothing more, and
 * every change only on resources tagged for the cluster where AWS can check that.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { iamAction, OPERATIONS, type OperationName, requiredIamActions } from "../../../providers/aws/operations.ts";

const ROOT = join(import.meta.dirname, "../../..");
const PLACEHOLDER = "CLUSTER_NAME";
const CLUSTER_TAG = `kubernetes.io/cluster/${PLACEHOLDER}`;

interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

const policy = JSON.parse(readFileSync(join(ROOT, "deploy/iam-policy.json"), "utf8")) as {
  Version: string;
  Statement: Statement[];
};
const list = (value: string | string[]) => (Array.isArray(value) ? value : [value]);
const allowed = new Set(policy.Statement.filter((s) => s.Effect === "Allow").flatMap((s) => list(s.Action)));

/** SDK commands the provider's source constructs (`new XxxCommand(`). */
function commandsInSource(): string[] {
  const dir = join(ROOT, "providers/aws");
  const names = new Set<string>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".ts")))
    for (const match of readFileSync(join(dir, file), "utf8").matchAll(/new (\w+)Command\(/g))
      if (match[1] !== undefined) names.add(match[1]);
  return [...names].sort();
}

describe("deploy/iam-policy.json", () => {
  it("lists every SDK command the provider sends in the operation table", () => {
    const commands = commandsInSource();
    expect(commands.length).toBeGreaterThan(20);
    expect(commands.filter((c) => !(c in OPERATIONS))).toEqual([]);
  });

  it("uses every operation in the table (no stale entries that would widen the policy)", () => {
    expect(Object.keys(OPERATIONS).filter((op) => !commandsInSource().includes(op))).toEqual([]);
  });

  it("allows every action the provider needs, and nothing else", () => {
    const needed = requiredIamActions();
    expect(needed.filter((a) => !allowed.has(a))).toEqual([]);
    expect([...allowed].filter((a) => !needed.includes(a)).sort()).toEqual([]);
  });

  it("never uses wildcard actions or denies", () => {
    for (const statement of policy.Statement) {
      expect(statement.Effect).toBe("Allow");
      for (const action of list(statement.Action)) expect(action).not.toMatch(/\*/);
    }
  });

  it("conditions every mutation on the cluster tag, except creating a group inside a VPC", () => {
    const mutating = new Set(
      (Object.keys(OPERATIONS) as OperationName[]).filter((op) => OPERATIONS[op].mutating).map(iamAction),
    );
    mutating.add("ec2:CreateTags");
    for (const statement of policy.Statement) {
      const actions = list(statement.Action);
      if (!actions.some((a) => mutating.has(a))) continue;
      const resources = list(statement.Resource);
      const vpcOnly =
        actions.length === 1 && actions[0] === "ec2:CreateSecurityGroup" && resources.every((r) => /:vpc\/\*$/.test(r));
      if (vpcOnly) continue;
      const keys = Object.values(statement.Condition ?? {}).flatMap((c) => Object.keys(c));
      expect(keys, `statement ${statement.Sid} must require the cluster tag`).toContainEqual(
        expect.stringMatching(new RegExp(`^aws:(Request|Resource)Tag/${CLUSTER_TAG.replaceAll("/", "\\/")}$`)),
      );
    }
  });

  it("creates a security group only with the cluster tag on the group itself", () => {
    const groupStatements = policy.Statement.filter(
      (s) =>
        list(s.Action).includes("ec2:CreateSecurityGroup") &&
        list(s.Resource).some((r) => r.includes("security-group/")),
    );
    expect(groupStatements).toHaveLength(1);
    expect(groupStatements[0]?.Condition?.StringEquals?.[`aws:RequestTag/${CLUSTER_TAG}`]).toBe("owned");
  });

  it("is only readable on Resource * for Describe calls", () => {
    for (const statement of policy.Statement)
      if (list(statement.Resource).includes("*") && statement.Condition === undefined)
        for (const action of list(statement.Action)) expect(action).toMatch(/:Describe/);
  });
});
