/**
 * What a Temporal Cloud namespace already has, read with the two calls Cloud serves to a client's
 * API key or certificate: DescribeNamespace and ListSearchAttributes. Nothing here changes it.
 */
import type { Connection } from '@temporalio/client';
import { optionalTsToMs, type SearchAttributeType } from '@temporalio/common';
import type { CloudNamespaceState } from './cloudPlan';
import { GRPC_NOT_FOUND, typeOfIndexed } from './namespace';

const DAY_MS = 86_400_000;

export async function inspectNamespace(connection: Connection, namespace: string): Promise<CloudNamespaceState> {
  let described;
  try {
    described = await connection.workflowService.describeNamespace({ namespace });
  } catch (err) {
    if ((err as { code?: number }).code === GRPC_NOT_FOUND)
      return { exists: false, retentionDays: null, searchAttributes: {} };
    throw err;
  }
  const ttl = optionalTsToMs(described.config?.workflowExecutionRetentionTtl);
  const listed = (await connection.operatorService.listSearchAttributes({ namespace })).customAttributes ?? {};
  return {
    exists: true,
    retentionDays: ttl === undefined ? null : ttl / DAY_MS,
    searchAttributes: Object.fromEntries(
      Object.entries(listed).map(([name, type]) => [name, typeOfIndexed(type) as SearchAttributeType]),
    ),
  };
}
