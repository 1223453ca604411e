/**
 * The worker's sticky-cache figures from its /metrics (the SDK's Prometheus exporter, through the
 * worker's listener): every `temporal_sticky_cache_*` series summed over its labels. Counters
 * (hits, misses, forced evictions) only grow; `…_size` is the cache's size now.
 */
export type StickyCache = Record<string, number>;

const SERIES = /^(temporal_sticky_cache_\w+?)(?:\{[^}]*\})?\s+(\S+)$/;

export function parseStickyCache(text: string): StickyCache {
  const figures: StickyCache = {};
  for (const line of text.split('\n')) {
    const match = SERIES.exec(line.trim());
    if (match) figures[match[1]!] = (figures[match[1]!] ?? 0) + Number(match[2]);
  }
  return figures;
}

export async function stickyCache(metricsUrl: string): Promise<StickyCache> {
  return parseStickyCache(await (await fetch(metricsUrl)).text());
}
