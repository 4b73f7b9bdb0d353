import { describe, it, expect } from 'vitest';
import { isValidTwilioSignature, parseForm, twilioSignature } from '../../src/carriers/twilio/twilio-signature.js';

describe('X-Twilio-Signature', () => {
  const url = 'https://mycompany.com/myapp.php?foo=1&bar=2';
  const params = { CallSid: 'CA1234567890ABCDE', Caller: '+14158675309', Digits: '1234', From: '+14158675309', To: '+18005551212' };

  it('matches the documented test vector', () => {
    expect(twilioSignature('12345', url, params)).toBe('RSOYDt4T1cUTdK1PDd93/VVr8B8=');
    expect(isValidTwilioSignature('12345', 'RSOYDt4T1cUTdK1PDd93/VVr8B8=', url, params)).toBe(true);
  });

  it('refuses a missing, wrong or other-token signature, and changed params', () => {
    expect(isValidTwilioSignature('12345', undefined, url, params)).toBe(false);
    expect(isValidTwilioSignature('12345', 'RSOYDt4T1cUTdK1PDd93/VVr8B8', url, params)).toBe(false);
    expect(isValidTwilioSignature('54321', 'RSOYDt4T1cUTdK1PDd93/VVr8B8=', url, params)).toBe(false);
    expect(isValidTwilioSignature('12345', 'RSOYDt4T1cUTdK1PDd93/VVr8B8=', url, { ...params, Digits: '1235' })).toBe(false);
  });

  it('signs the JSON-body variant over the URL only', () => {
    const u = `${url}&bodySHA256=0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620`;
    expect(twilioSignature('12345', u)).toBe('a9nBmqA0ju/hNViExpshrM61xv4=');
  });

  it('repeated names: values de-duplicated and sorted', () => {
    const form = parseForm('StatusCallbackEvent=ringing&StatusCallbackEvent=answered&A=1');
    expect(form).toEqual({ StatusCallbackEvent: ['ringing', 'answered'], A: '1' });
    expect(twilioSignature('t', 'https://x/y', form)).toBe(twilioSignature('t', 'https://x/y', { A: '1', StatusCallbackEvent: ['answered', 'ringing', 'ringing'] }));
  });
});
