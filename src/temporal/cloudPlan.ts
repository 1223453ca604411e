/**
 * `npm run setup-temporal` on Temporal Cloud. Cloud manages a namespace's existence, retention and
 * search attributes through its own control plane (`tcld`, the Cloud UI, Terraform), not through
 * the operator API a self-hosted frontend serves, so there setup only checks what exists and says
 * what to run for what is missing. Pure: what exists and what is required in, commands out.
 */
import type { SearchAttributeType } from '@temporalio/common';

export type SetupMode = 'auto' | 'cloud' | 'self-hosted';

/**
 * Temporal Cloud: a namespace or regional endpoint (`*.tmprl.cloud`, `*.api.temporal.io`) or an
 * API key, unless TEMPORAL_SETUP_MODE says otherwise (a self-hosted cluster behind API keys, or a
 * test pointing the Cloud checks at a dev server).
 */
export function isTemporalCloud(target: { address: string; hasApiKey: boolean }, mode: SetupMode = 'auto'): boolean {
  if (mode !== 'auto') return mode === 'cloud';
  const host = target.address.replace(/:\d+$/, '').toLowerCase();
  return target.hasApiKey || /\.tmprl\.cloud$/.test(host) || /\.api\.temporal\.io$/.test(host);
}

export interface CloudRequirements {
  /** The namespace ID, `<namespace>.<account>`, as TEMPORAL_NAMESPACE names it. */
  namespace: string;
  retentionDays: number;
  searchAttributes: ReadonlyArray<{ name: string; type: SearchAttributeType }>;
  /** How the clients authenticate, so that a namespace created from the plan accepts them. */
  auth: 'api_key' | 'mtls';
}

export interface CloudNamespaceState {
  exists: boolean;
  retentionDays: number | null;
  /** Custom search attributes registered on the namespace: name to type. */
  searchAttributes: Readonly<Record<string, SearchAttributeType>>;
}

export interface CloudPlan {
  /** What is missing or wrong, one line each; empty when the namespace is ready. */
  findings: string[];
  /** The `tcld` commands that fix what can be fixed, in order. */
  commands: string[];
}

/** tcld's names for the types (`--search-attribute "Name=Type"`). */
const TCLD_TYPES: Record<SearchAttributeType, string> = {
  TEXT: 'Text',
  KEYWORD: 'Keyword',
  INT: 'Int',
  DOUBLE: 'Double',
  BOOL: 'Bool',
  DATETIME: 'Datetime',
  KEYWORD_LIST: 'KeywordList',
};

/** The `temporalcloud_namespace_search_attribute` type of a search attribute (Terraform). */
export function terraformType(type: SearchAttributeType): string {
  return type.toLowerCase();
}

function searchAttributeFlags(attributes: CloudRequirements['searchAttributes']): string {
  return attributes.map((a) => `--search-attribute "${a.name}=${TCLD_TYPES[a.type]}"`).join(' ');
}

export function cloudSetupPlan(required: CloudRequirements, found: CloudNamespaceState): CloudPlan {
  const ns = required.namespace;
  if (!found.exists) {
    const auth =
      required.auth === 'api_key' ? '--auth-method api_key' : '--auth-method mtls --ca-certificate-file <ca.pem>';
    return {
      findings: [`namespace ${ns} does not exist`],
      commands: [
        `tcld namespace create --namespace ${ns.split('.')[0]} --region <region> --retention-days ${required.retentionDays} ${auth} ${searchAttributeFlags(required.searchAttributes)}`,
      ],
    };
  }
  const findings: string[] = [];
  const commands: string[] = [];
  if (found.retentionDays === null || found.retentionDays < required.retentionDays) {
    findings.push(`retention is ${found.retentionDays ?? 'unknown'} days, at least ${required.retentionDays} needed`);
    commands.push(`tcld namespace retention set --namespace ${ns} --retention-days ${required.retentionDays}`);
  }
  const conflicting = required.searchAttributes.filter(
    (a) => a.name in found.searchAttributes && found.searchAttributes[a.name] !== a.type,
  );
  for (const a of conflicting) {
    findings.push(
      `search attribute ${a.name} is registered as ${TCLD_TYPES[found.searchAttributes[a.name]!]}, the journeys need ${TCLD_TYPES[a.type]}: no command fixes this without losing what it indexes; rename or remove it (tcld namespace search-attributes rename|remove) or use another namespace`,
    );
  }
  const missing = required.searchAttributes.filter((a) => !(a.name in found.searchAttributes));
  if (missing.length) {
    findings.push(`search attributes missing: ${missing.map((a) => a.name).join(', ')}`);
    commands.push(`tcld namespace search-attributes add --namespace ${ns} ${searchAttributeFlags(missing)}`);
  }
  return { findings, commands };
}
