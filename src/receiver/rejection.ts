/** Every non-200 answer: a stable reason code an integrator can act on, and a short message. */
export class Rejection extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    readonly detail = 'Rejected',
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}
