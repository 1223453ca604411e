import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';

export const MONITORING_DIR = resolve(__dirname, '..', '..', 'deploy', 'monitoring');

export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
}

export function alertRules(): AlertRule[] {
  const file = parseYaml(readFileSync(resolve(MONITORING_DIR, 'alerts.yml'), 'utf8')) as {
    groups: Array<{ rules: AlertRule[] }>;
  };
  return file.groups.flatMap((g) => g.rules);
}

/** The metric names the alert expressions read (a histogram's `_bucket` series included). */
export function alertMetricNames(): string[] {
  const names = alertRules().flatMap((r) =>
    [...r.expr.matchAll(/\b((?:begini|temporal)_[a-z_]+)\b/g)].map((m) => m[1]!),
  );
  return [...new Set(names)].sort();
}
