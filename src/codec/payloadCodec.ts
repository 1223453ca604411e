/**
 * The payload codec every worker and client runs with, built one way from its settings: plaintext
 * refused, unless a dated migration allowance (PAYLOAD_CODEC_ACCEPT_PLAINTEXT_UNTIL) is set to read
 * histories from before encryption was on. The codec endpoint, which only displays, builds its own.
 */
import { AesGcmCodec, type CodecKey } from './aesGcm';

export interface PayloadCodecSettings {
  codecKeys: readonly CodecKey[];
  /** null or absent: plaintext payloads are refused. */
  acceptPlaintextUntil?: Date | null;
}

export function payloadCodec({ codecKeys, acceptPlaintextUntil }: PayloadCodecSettings): AesGcmCodec {
  return new AesGcmCodec(codecKeys, acceptPlaintextUntil ? { acceptPlaintext: { until: acceptPlaintextUntil } } : {});
}
