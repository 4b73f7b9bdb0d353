/**
 * Sends a recording's audio, whole or as the byte range a player asks for (`Range: bytes=…`), so that it
 * can seek: 206 with `Content-Range`, 416 for a range outside the file. Shared by every face that serves
 * recording bytes (CallMyCall's signed URL, 002's `/recording/stream`). Ranges are read with the
 * `range-parser` package (the one Express and `send` use).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import parseRange from 'range-parser';
import type { RecordingMedia } from '../../core/index.js';

export async function sendRecording(req: FastifyRequest, reply: FastifyReply, media: RecordingMedia): Promise<FastifyReply> {
  reply.header('Accept-Ranges', 'bytes');
  reply.header('Content-Type', media.contentType);
  reply.header('Content-Disposition', `inline; filename="${media.sid}.${media.format}"`);
  // Signed URLs are short-lived: no shared cache may keep the audio.
  reply.header('Cache-Control', 'private, no-store');
  const header = req.headers.range;
  if (typeof header === 'string' && header.trim()) {
    const ranges = parseRange(media.size, header, { combine: true });
    if (ranges === -1) {
      reply.header('Content-Range', `bytes */${media.size}`);
      return reply.code(416).send();
    }
    // -2: not a byte range we understand: the whole file, as RFC 9110 allows.
    if (ranges !== -2 && ranges.type === 'bytes' && ranges.length >= 1) {
      // Several ranges would need multipart/byteranges; players ask for one, and get the first.
      const { start, end } = ranges[0];
      reply.code(206);
      reply.header('Content-Range', `bytes ${start}-${end}/${media.size}`);
      reply.header('Content-Length', end - start + 1);
      return reply.send(await media.read({ start, end }));
    }
  }
  reply.header('Content-Length', media.size);
  return reply.send(await media.read());
}
