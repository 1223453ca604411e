/** The codec server's settings (npm run codec-server): the endpoint that decrypts payloads for the Web UI and CLI. */
import { z } from 'zod';
import type { CodecKey } from '../codec/aesGcm';
import { commaList, logLevel, parseEnv, port, type Env } from './env';
import { codecKeys } from './payloadCodec';

const codecServerEnvSchema = z.object({
  LOG_LEVEL: logLevel,
  PAYLOAD_CODEC_KEYS: codecKeys,
  CODEC_AUTH_TOKEN: z
    .string({ error: 'is required: the codec endpoint decrypts, so it is never open' })
    .min(24, 'must be at least 24 characters'),
  CODEC_CORS_ORIGINS: commaList('').pipe(z.array(z.url({ protocol: /^https?$/ }))),
  CODEC_HOST: z.string().min(1).default('127.0.0.1'),
  CODEC_PORT: port(8088),
});

export interface CodecServerConfig {
  codecKeys: CodecKey[];
  token: string;
  corsOrigins: string[];
  host: string;
  port: number;
}

export function loadCodecServerConfig(rawEnv: Env = process.env): CodecServerConfig {
  const e = parseEnv(codecServerEnvSchema, rawEnv);
  return {
    codecKeys: e.PAYLOAD_CODEC_KEYS,
    token: e.CODEC_AUTH_TOKEN,
    corsOrigins: e.CODEC_CORS_ORIGINS,
    host: e.CODEC_HOST,
    port: e.CODEC_PORT,
  };
}
