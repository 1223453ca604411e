/**
 * The tracer of the project's own spans (the webhook request, the LOS call). A leaf, so that the
 * hand-off activity names its spans without importing the telemetry setup and every env schema.
 */
export const TRACER_NAME = 'begini-temporal';
