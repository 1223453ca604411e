/**
 * The bench's pure helpers: the open loop's arrival schedule (bench/openLoop.ts), the sticky-cache
 * figures read off a worker's /metrics (bench/stickyCache.ts), and where a profile frame's self time
 * is counted (bench/profileSummary.ts).
 */
import { arrivalOffsets } from '../../bench/openLoop';
import { partOf, selfTime } from '../../bench/profileSummary';
import { parseStickyCache } from '../../bench/stickyCache';

test('arrivals are evenly spaced at the rate, for the duration, open loop', () => {
  expect(arrivalOffsets(4, 2)).toEqual([0, 250, 500, 750, 1000, 1250, 1500, 1750]);
  expect(arrivalOffsets(2.5, 2)).toEqual([0, 400, 800, 1200, 1600]);
  // A rate too low for one arrival in the window still sends one.
  expect(arrivalOffsets(0.1, 2)).toEqual([0]);
});

test('sticky-cache series are summed over their labels; other series are ignored', () => {
  const text = [
    '# HELP temporal_sticky_cache_hit sticky cache hits',
    '# TYPE temporal_sticky_cache_hit counter',
    'temporal_sticky_cache_hit{namespace="default",task_queue="bench"} 150',
    'temporal_sticky_cache_hit{namespace="default",task_queue="other"} 3',
    'temporal_sticky_cache_size{namespace="default"} 250',
    'temporal_sticky_cache_total_forced_eviction 50',
    'temporal_workflow_completed{namespace="default"} 9',
  ].join('\n');
  expect(parseStickyCache(text)).toEqual({
    temporal_sticky_cache_hit: 153,
    temporal_sticky_cache_size: 250,
    temporal_sticky_cache_total_forced_eviction: 50,
  });
});

test('profile frames are counted by where their code lives, self time from the sample deltas', () => {
  expect(partOf('', '(garbage collector)')).toBe('GC');
  expect(partOf('file:///app/node_modules/protobufjs/src/writer.js', 'fork')).toMatch(/^protobuf/);
  expect(partOf('file:///app/dist/src/codec/aesGcm.js', 'encrypt')).toMatch(/codec/);
  expect(partOf('file:///app/node_modules/@temporalio/worker/lib/worker.js', 'x')).toMatch(/^SDK worker/);
  expect(partOf('/app/dist/workflow-bundle.js', 'beginiJourney')).toMatch(/^workflow bundle/);
  expect(partOf('node:internal/streams/readable', 'read')).toBe('Node built-ins');
  const frame = (id: number, functionName: string, url = '') => ({ id, callFrame: { functionName, url } });
  const profile = {
    nodes: [frame(1, '(garbage collector)'), frame(2, 'encrypt', '/app/dist/src/codec/aesGcm.js')],
    startTime: 0,
    endTime: 0,
    samples: [1, 2, 2],
    timeDeltas: [1000, 2000, 3000],
  };
  expect(selfTime([profile], (f) => partOf(f.url, f.functionName))).toEqual({ GC: 1, 'our codec (src/codec)': 5 });
});
