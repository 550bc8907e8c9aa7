/**
 * Real AWS SDK clients whose HTTP layer answers from a script instead of the network. Used only for the
 * error paths an emulator cannot produce on demand (throttling, 5xx, access denied): the SDK still parses
 * each answer, so error names are exactly what the real service would yield.
 *
 * @module
 */
import { Readable } from "node:stream";
import { EC2Client } from "@aws-sdk/client-ec2";
import { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";

/** One scripted HTTP answer. */
export interface StubAnswer {
  readonly status: number;
  readonly body: string;
}

/** An ELBv2 (query protocol) error answer. */
export function elbError(code: string, message = "stubbed", status = 400): StubAnswer {
  return {
    status,
    body: `<ErrorResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>r-1</RequestId></ErrorResponse>`,
  };
}

/** An ELBv2 success answer for `action` with `result` as the inner XML of `<ActionResult>`. */
export function elbOk(action: string, result = ""): StubAnswer {
  return {
    status: 200,
    body: `<${action}Response xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"><${action}Result>${result}</${action}Result><ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></${action}Response>`,
  };
}

/** An EC2 error answer. */
export function ec2Error(code: string, message = "stubbed", status = 400): StubAnswer {
  return {
    status,
    body: `<Response><Errors><Error><Code>${code}</Code><Message>${message}</Message></Error></Errors><RequestID>r-1</RequestID></Response>`,
  };
}

export interface StubbedClients {
  readonly elbv2: ElasticLoadBalancingV2Client;
  readonly ec2: EC2Client;
  /** `Action` parameter of every request the SDK sent, in order. */
  readonly requests: string[];
}

/** Clients answering each request with the next scripted answer (the last one repeats). */
export function stubbedClients(answers: readonly StubAnswer[]): StubbedClients {
  const requests: string[] = [];
  let next = 0;
  const requestHandler = {
    handle: async (request: { body?: unknown }) => {
      const body = typeof request.body === "string" ? request.body : "";
      requests.push(new URLSearchParams(body).get("Action") ?? "?");
      const answer = answers[Math.min(next++, answers.length - 1)] ?? elbError("InternalFailure", "no answer", 500);
      return {
        response: {
          statusCode: answer.status,
          headers: { "content-type": "text/xml" },
          body: Readable.from([Buffer.from(answer.body)]),
        },
      };
    },
  };
  const config = {
    region: "us-east-1",
    credentials: { accessKeyId: "stub", secretAccessKey: "stub" },
    maxAttempts: 1,
    // biome-ignore lint/suspicious/noExplicitAny: the SDK's handler type is internal; the shape above is what it calls.
    requestHandler: requestHandler as any,
  };
  return { elbv2: new ElasticLoadBalancingV2Client(config), ec2: new EC2Client(config), requests };
}
