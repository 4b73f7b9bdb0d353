/** The TwiML documents, built with the twilio package's VoiceResponse: exact output, escaping included. */
import { describe, expect, it } from 'vitest';
import { conferenceTwiml, dialTwiml, digitsThenStreamTwiml, hangupTwiml, relayTwiml, sayAndHangup, streamTwiml } from '../../src/carriers/twilio/twiml.js';

const DECL = '<?xml version="1.0" encoding="UTF-8"?>';

describe('TwiML', () => {
  it('relay: <Connect action> with <ConversationRelay> and the CallSid parameter', () => {
    expect(relayTwiml({ action: 'https://sb.example/twilio/relay-ended', url: 'wss://sb.example/relay/ws', language: 'en-US', callSid: 'CA123' })).toBe(
      DECL +
        '<Response><Connect action="https://sb.example/twilio/relay-ended"><ConversationRelay url="wss://sb.example/relay/ws" language="en-US" interruptible="any" dtmfDetection="true">' +
        '<Parameter name="callSid" value="CA123"/></ConversationRelay></Connect></Response>',
    );
  });

  it('audio mode: <Connect><Stream> named by call id and token; digits are <Play digits> then a new stream, without declaration', () => {
    const target = { url: 'wss://sb.example/media/ws', callId: 'c1', token: 'tok-_1' };
    const stream = '<Connect><Stream url="wss://sb.example/media/ws"><Parameter name="callId" value="c1"/><Parameter name="token" value="tok-_1"/></Stream></Connect>';
    expect(streamTwiml(target)).toBe(`${DECL}<Response>${stream}</Response>`);
    expect(digitsThenStreamTwiml('w2#', target)).toBe(`<Response><Play digits="w2#"/>${stream}</Response>`);
  });

  it('hang-ups, transfers and conferences', () => {
    expect(hangupTwiml()).toBe(`${DECL}<Response><Hangup/></Response>`);
    expect(sayAndHangup('Goodbye.')).toBe(`${DECL}<Response><Say>Goodbye.</Say><Hangup/></Response>`);
    expect(dialTwiml('+15550101', '+15550100')).toBe(`${DECL}<Response><Dial callerId="+15550100">+15550101</Dial></Response>`);
    expect(conferenceTwiml('sb-abc')).toBe(
      `${DECL}<Response><Dial><Conference startConferenceOnEnter="true" endConferenceOnExit="true" beep="false">sb-abc</Conference></Dial></Response>`,
    );
  });

  it('escapes text and attributes: nothing a value holds can add or break an element', () => {
    expect(sayAndHangup('Tom & Jerry <Hangup/>')).toBe(`${DECL}<Response><Say>Tom &amp; Jerry &lt;Hangup/&gt;</Say><Hangup/></Response>`);
    const relay = relayTwiml({ action: 'https://h/x?a=1&b=2', url: 'wss://h/"r"', language: 'en-US', callSid: 'CA"/><Hangup/>' });
    expect(relay).toContain('action="https://h/x?a=1&amp;b=2"');
    expect(relay).toContain('url="wss://h/&quot;r&quot;"');
    expect(relay).toContain('value="CA&quot;/>&lt;Hangup/>"');
    expect(relay.match(/<Hangup\/>/g)).toBeNull();
  });
});
