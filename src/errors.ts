/**
 * The one error hierarchy. Everything we throw on purpose is an IntegrationError: a stable,
 * machine-readable reason code (snake_case, documented where its subclass is) and a short message for
 * a person. Edges act on the reason, never on the message: an HTTP answer carries it, an entry point
 * exits with the status its reason maps to, a log line names it. Anything else that reaches an edge
 * is a bug and is answered as one. Failures that cross from an activity to the journey are the SDK's
 * `ApplicationFailure`s instead, whose `type` plays the reason's part (HANDOFF_FAILURE in
 * workflows/definitions.ts). A leaf: it imports nothing.
 */
export class IntegrationError<Reason extends string = string> extends Error {
  constructor(
    readonly reason: Reason,
    message: string,
  ) {
    super(message);
    // The subclass's own name in logs and stack traces, without each one restating it.
    this.name = new.target.name;
  }
}
