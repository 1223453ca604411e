import type { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { searchAttributes } from '../../workflows/definitions';

/**
 * Registers the journey's search attributes (a workflow that upserts an unregistered one fails
 * its task for ever) and waits until the namespace lists them. Safe to run on every start.
 */
export async function registerSearchAttributes(connection: Connection, namespace: string): Promise<void> {
  const wanted = Object.values(searchAttributes);
  const listed = async () =>
    (await connection.operatorService.listSearchAttributes({ namespace })).customAttributes ?? {};
  const existing = await listed();
  const conflicting = wanted.filter((k) => k.name in existing && existing[k.name] !== indexedType(k.type));
  if (conflicting.length) {
    throw new Error(`search attributes registered with another type: ${conflicting.map((k) => k.name).join(', ')}`);
  }
  const missing = wanted.filter((k) => !(k.name in existing));
  if (missing.length === 0) return;
  await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: indexedTypes(missing) });
  for (let attempt = 0; attempt < 50; attempt++) {
    const now = await listed();
    if (missing.every((k) => k.name in now)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('search attributes were added but never listed');
}

export const GRPC_NOT_FOUND = 5;

/**
 * Creates the namespace if it does not exist yet (each Begini deployment may have its own), with
 * the retention below. Safe to run on every start.
 */
export async function ensureNamespace(connection: Connection, namespace: string, retentionDays: number): Promise<void> {
  try {
    await connection.workflowService.describeNamespace({ namespace });
    return;
  } catch (err) {
    if ((err as { code?: number }).code !== GRPC_NOT_FOUND) throw err;
  }
  await connection.workflowService.registerNamespace({
    namespace,
    workflowExecutionRetentionPeriod: msToTs(`${retentionDays}d`),
  });
  // describeNamespace reads the database, but the other APIs resolve a namespace through each
  // service's cache, refreshed every ~10 s on a cluster: wait until one of those knows it too.
  for (let attempt = 0; attempt < 150; attempt++) {
    try {
      await connection.workflowService.describeNamespace({ namespace });
      await connection.operatorService.listSearchAttributes({ namespace });
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  throw new Error(`namespace ${namespace} was registered but never became visible`);
}

/**
 * Closed journeys must stay visible for as long as a late delivery could arrive, because a closed
 * journey is what stops a late delivery from starting a second decision.
 */
export async function setRetention(connection: Connection, namespace: string, days: number): Promise<void> {
  await connection.workflowService.updateNamespace({
    namespace,
    config: { workflowExecutionRetentionTtl: msToTs(`${days}d`) },
  });
}

/** The journey's search attributes (or `keys`) as AddSearchAttributes takes them: name to indexed type. */
export function indexedTypes(
  keys: ReadonlyArray<{ name: string; type: string }> = Object.values(searchAttributes),
): Record<string, temporal.api.enums.v1.IndexedValueType> {
  return Object.fromEntries(keys.map((k) => [k.name, indexedType(k.type)]));
}

/** The SDK's name (`KEYWORD`, `KEYWORD_LIST`, …) of an indexed type as ListSearchAttributes reports it. */
export function typeOfIndexed(value: temporal.api.enums.v1.IndexedValueType): string {
  return (temporal.api.enums.v1.IndexedValueType[value] ?? 'UNSPECIFIED').replace(/^INDEXED_VALUE_TYPE_/, '');
}

function indexedType(type: string): temporal.api.enums.v1.IndexedValueType {
  const value =
    temporal.api.enums.v1.IndexedValueType[
      `INDEXED_VALUE_TYPE_${type}` as keyof typeof temporal.api.enums.v1.IndexedValueType
    ];
  if (value === undefined) throw new Error(`unknown search attribute type ${type}`);
  return value;
}
