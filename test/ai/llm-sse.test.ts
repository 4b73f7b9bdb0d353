/** The SSE reader the adapters share: line endings, split chunks, comments, multi-line data. */
import { describe, expect, it } from 'vitest';
import { SseParser } from '../../src/ai/llm/sse.js';

describe('SseParser', () => {
  it('dispatches on a blank line with any line ending, across chunk boundaries', () => {
    const p = new SseParser();
    const text = 'event: message_start\r\ndata: {"a":1}\r\n\r\ndata: x\n\ndata: y\r\rdata: [DONE]\n\n';
    const out = [];
    // Feed one character at a time: every boundary, including inside "\r\n", must be handled.
    for (const ch of text) out.push(...p.push(ch));
    out.push(...p.end());
    expect(out).toEqual([{ event: 'message_start', data: '{"a":1}' }, { data: 'x' }, { data: 'y' }, { data: '[DONE]' }]);
  });

  it('ignores comments and unknown fields, joins data lines, keeps a value without the space', () => {
    const p = new SseParser();
    expect(p.push(': keep-alive\n\nid: 7\nretry: 10\ndata:one\ndata: two\n\nnonsense line\n\n')).toEqual([{ data: 'one\ntwo' }]);
  });

  it('dispatches a last event that lacks its blank line at the end', () => {
    const p = new SseParser();
    expect(p.push('data: [DONE]')).toEqual([]);
    expect(p.end()).toEqual([{ data: '[DONE]' }]);
  });
});
