import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/index.js';

describe('config', () => {
  it('has working defaults with an empty environment', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ port: 3000, host: '127.0.0.1', simTimeScale: 1, rateLimitPerMinute: 1000, nodeEnv: 'development', logLevel: 'info' });
    expect(c.databaseUrl).toBeUndefined();
    expect(c.publicUrl).toBe('http://localhost:3000');
    expect(c.dataDir).toMatch(/data$/);
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['DATABASE_URL', 'mysql://x'],
    ['REDIS_URL', 'http://x'],
    ['PUBLIC_URL', 'not a url'],
    ['LOG_LEVEL', 'loud'],
    ['SIM_TIME_SCALE', 'fast'],
    ['NODE_ENV', 'staging'],
    ['WEBHOOK_SIGNING_SECRET', 'short'],
    ['RATE_LIMIT_PER_MINUTE', '0'],
  ])('refuses %s=%s with a message naming the variable', (name, value) => {
    let err: unknown;
    try {
      loadConfig({ [name]: value });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).variable).toBe(name);
    expect((err as Error).message).toContain(name);
  });

  it('reads node lease timings (lease at least twice the heartbeat)', () => {
    expect(loadConfig({}).nodeLease).toEqual({ heartbeatMs: 5000, leaseMs: 15_000, reaperMs: 5000 });
    expect(loadConfig({ NODE_HEARTBEAT_MS: '100', NODE_LEASE_MS: '1000', NODE_REAPER_MS: '200' }).nodeLease).toEqual({ heartbeatMs: 100, leaseMs: 1000, reaperMs: 200 });
    expect(() => loadConfig({ NODE_HEARTBEAT_MS: '5000', NODE_LEASE_MS: '6000' })).toThrow(/NODE_LEASE_MS/);
    expect(() => loadConfig({ NODE_REAPER_MS: 'soon' })).toThrow(/NODE_REAPER_MS/);
  });

  it('configures a language model only with LLM_MODEL, and says what is missing', () => {
    expect(loadConfig({}).llm).toBeUndefined();
    expect(loadConfig({ LLM_MODEL: 'gpt-4o-mini', LLM_API_KEY: 'k' }).llm).toMatchObject({ provider: 'openai', model: 'gpt-4o-mini', mode: 'tools' });
    expect(loadConfig({ LLM_MODEL: 'llama3', LLM_BASE_URL: 'http://localhost:11434/v1' }).llm).toMatchObject({ apiKey: 'local' });
    expect(() => loadConfig({ LLM_API_KEY: 'k' })).toThrow(/LLM_MODEL/);
    expect(() => loadConfig({ LLM_MODEL: 'm' })).toThrow(/LLM_API_KEY/);
    expect(() => loadConfig({ LLM_MODEL: 'm', LLM_API_KEY: 'k', LLM_MODE: 'telepathy' })).toThrow(/LLM_MODE/);
    expect(() => loadConfig({ VOICEMAIL_ACTION: 'sing' })).toThrow(/VOICEMAIL_ACTION/);
  });

  it('configures speech providers by their keys, and refuses a provider named but not configured', () => {
    const none = loadConfig({}).speech;
    expect(none).toEqual({
      stt: 'auto',
      sttChunkMs: 100,
      sttSilenceMs: 1500,
      engine: 'cascaded',
      simAudio: false,
      offlineModel: 'auto',
      voiceMode: 'text',
      turnTaking: { endpointingMs: 500, minInterruptionMs: 500, minInterruptionWords: 1, falseInterruptionMs: 1000 },
      openai: undefined,
      deepgram: undefined,
      elevenlabs: undefined,
      azure: undefined,
      realtime: { model: 'gpt-realtime', vadThreshold: 0.5, silenceMs: 500 },
    });
    const all = loadConfig({ OPENAI_API_KEY: 'o', DEEPGRAM_API_KEY: 'd', DEEPGRAM_BASE_URL: 'ws://127.0.0.1:9/', ELEVENLABS_API_KEY: 'e', AZURE_SPEECH_KEY: 'a', AZURE_SPEECH_REGION: 'westeurope', SIM_AUDIO: 'true', VOICE_ENGINE: 'realtime' }).speech;
    expect(all.openai).toEqual({ apiKey: 'o', baseUrl: 'https://api.openai.com/v1' });
    expect(all.deepgram).toEqual({ apiKey: 'd', baseUrl: 'ws://127.0.0.1:9' });
    expect(all.azure).toEqual({ apiKey: 'a', region: 'westeurope', baseUrl: 'https://westeurope.tts.speech.microsoft.com' });
    expect(all).toMatchObject({ simAudio: true, engine: 'realtime' });
    expect(() => loadConfig({ ELEVENLABS_BASE_URL: 'http://127.0.0.1:9' })).toThrow(/ELEVENLABS_API_KEY/);
    expect(() => loadConfig({ AZURE_SPEECH_KEY: 'a' })).toThrow(/AZURE_SPEECH_REGION/);
    expect(() => loadConfig({ STT_PROVIDER: 'deepgram' })).toThrow(/STT_PROVIDER/);
    expect(() => loadConfig({ VOICE_ENGINE: 'realtime' })).toThrow(/VOICE_ENGINE/);
    expect(loadConfig({ REALTIME_MODEL: 'gpt-realtime-mini', REALTIME_VAD_THRESHOLD: '0.7', REALTIME_SILENCE_MS: '800' }).speech.realtime).toEqual({ model: 'gpt-realtime-mini', vadThreshold: 0.7, silenceMs: 800 });
    expect(() => loadConfig({ REALTIME_MODEL: 'gpt-5' })).toThrow(/REALTIME_MODEL/);
    expect(() => loadConfig({ REALTIME_VAD_THRESHOLD: '2' })).toThrow(/REALTIME_VAD_THRESHOLD/);
    expect(() => loadConfig({ REALTIME_SILENCE_MS: '20' })).toThrow(/REALTIME_SILENCE_MS/);
    expect(loadConfig({ OFFLINE_SPEECH_MODEL: 'general' }).speech.offlineModel).toBe('general');
    expect(() => loadConfig({ OFFLINE_SPEECH_MODEL: 'big' })).toThrow(/OFFLINE_SPEECH_MODEL/);
  });

  it('reads the voice mode and the turn-taking of audio calls, refusing values out of range', () => {
    const s = loadConfig({ VOICE_MODE: 'audio', VOICE_ENDPOINTING_MS: '300', VOICE_MIN_INTERRUPTION_MS: '400', VOICE_MIN_INTERRUPTION_WORDS: '2', VOICE_FALSE_INTERRUPTION_MS: '1500' }).speech;
    expect(s.voiceMode).toBe('audio');
    expect(s.turnTaking).toEqual({ endpointingMs: 300, minInterruptionMs: 400, minInterruptionWords: 2, falseInterruptionMs: 1500 });
    expect(() => loadConfig({ VOICE_MODE: 'smoke' })).toThrow(/VOICE_MODE/);
    expect(() => loadConfig({ VOICE_ENDPOINTING_MS: '5' })).toThrow(/VOICE_ENDPOINTING_MS/);
    expect(() => loadConfig({ VOICE_MIN_INTERRUPTION_WORDS: 'two' })).toThrow(/VOICE_MIN_INTERRUPTION_WORDS/);
    expect(loadConfig({ STT_CHUNK_MS: '40' }).speech.sttChunkMs).toBe(40);
    expect(() => loadConfig({ STT_CHUNK_MS: '10' })).toThrow(/STT_CHUNK_MS/);
    expect(() => loadConfig({ STT_CHUNK_MS: '500' })).toThrow(/STT_CHUNK_MS/);
  });

  it('reads STT_SILENCE_MS: ms longer than the endpointing, or all (no gate); refuses anything else naming it', () => {
    expect(loadConfig({ STT_SILENCE_MS: '2000' }).speech.sttSilenceMs).toBe(2000);
    expect(loadConfig({ STT_SILENCE_MS: 'all' }).speech.sttSilenceMs).toBe('all');
    expect(loadConfig({ STT_SILENCE_MS: 'ALL' }).speech.sttSilenceMs).toBe('all');
    // The provider must hear the silence that ends a turn before audio stops.
    expect(() => loadConfig({ STT_SILENCE_MS: '500' })).toThrow(/STT_SILENCE_MS must be longer than VOICE_ENDPOINTING_MS \(500 ms\)/);
    expect(() => loadConfig({ STT_SILENCE_MS: '1500', VOICE_ENDPOINTING_MS: '2000' })).toThrow(/STT_SILENCE_MS/);
    expect(loadConfig({ STT_SILENCE_MS: '2500', VOICE_ENDPOINTING_MS: '2000' }).speech.sttSilenceMs).toBe(2500);
    // Unset, the default stands even beside a long endpointing: each stream raises its own hold past it.
    expect(loadConfig({ VOICE_ENDPOINTING_MS: '2000' }).speech.sttSilenceMs).toBe(1500);
    expect(() => loadConfig({ STT_SILENCE_MS: 'never' })).toThrow(/STT_SILENCE_MS must be a whole number of milliseconds, or all/);
    expect(() => loadConfig({ STT_SILENCE_MS: '0' })).toThrow(/STT_SILENCE_MS/);
    expect(() => loadConfig({ STT_SILENCE_MS: '-1' })).toThrow(/STT_SILENCE_MS/);
  });

  it('configures Google Calendar with both client values, and a valid calendar time zone', () => {
    expect(loadConfig({}).google).toBeUndefined();
    expect(loadConfig({}).calendarTimeZone).toBe('UTC');
    expect(loadConfig({ GOOGLE_CLIENT_ID: 'id', GOOGLE_CLIENT_SECRET: 's', PUBLIC_URL: 'https://sb.example' }).google).toEqual({
      clientId: 'id',
      clientSecret: 's',
      redirectUri: 'https://sb.example/auth/google/callback',
      oauthBaseUrl: 'https://accounts.google.com',
      tokenBaseUrl: 'https://oauth2.googleapis.com',
      calendarBaseUrl: 'https://www.googleapis.com/calendar/v3',
    });
    expect(() => loadConfig({ GOOGLE_CLIENT_ID: 'id' })).toThrow(/GOOGLE_CLIENT_SECRET/);
    expect(() => loadConfig({ GOOGLE_CLIENT_ID: 'id', GOOGLE_CLIENT_SECRET: 's', GOOGLE_TOKEN_BASE_URL: 'ftp://x' })).toThrow(/GOOGLE_TOKEN_BASE_URL/);
    expect(loadConfig({ CALENDAR_TIME_ZONE: 'Europe/Stockholm' }).calendarTimeZone).toBe('Europe/Stockholm');
    expect(() => loadConfig({ CALENDAR_TIME_ZONE: 'Mars/Olympus' })).toThrow(/CALENDAR_TIME_ZONE/);
    expect(loadConfig({}).calendarTimeZone).toBe('UTC');
  });

  it('refuses a cluster without a shared CREDENTIALS_KEY, naming the variable', () => {
    const key = Buffer.alloc(32, 7).toString('base64');
    const refused = (env: Record<string, string>) => {
      try {
        loadConfig(env);
      } catch (e) {
        return e as ConfigError;
      }
      return null;
    };
    const clusters: Array<Record<string, string>> = [{ REDIS_URL: 'redis://127.0.0.1:6379' }, { REDIS_URL: 'redis://r', DATABASE_URL: 'postgres://u@h/db' }, { NODE_ENV: 'production', DATABASE_URL: 'postgres://u@h/db' }];
    for (const env of clusters) {
      const err = refused(env);
      expect(err, JSON.stringify(env)).toBeInstanceOf(ConfigError);
      expect(err!.variable).toBe('CREDENTIALS_KEY');
      expect(err!.message).toMatch(/CREDENTIALS_KEY is required when (REDIS_URL|DATABASE_URL) is set/);
      expect(loadConfig({ ...env, CREDENTIALS_KEY: key }).credentialsKey).toEqual(Buffer.alloc(32, 7));
    }
    // One node: its own key file is fine.
    expect(refused({})).toBeNull();
    expect(refused({ DATABASE_URL: 'postgres://u@h/db' })).toBeNull();
  });

  it('reads TWILIO_AGENT_NUMBER (the agent\'s way into a three-way room) as an E.164 number, naming it when wrong', () => {
    const twilio = { CARRIER: 'twilio', TWILIO_ACCOUNT_SID: 'AC' + 'ab'.repeat(16), TWILIO_AUTH_TOKEN: 'token' };
    expect(loadConfig({ ...twilio, TWILIO_AGENT_NUMBER: '+15551260900' }).twilio?.agentNumber).toBe('+15551260900');
    expect(loadConfig(twilio).twilio?.agentNumber).toBeUndefined();
    expect(() => loadConfig({ ...twilio, TWILIO_AGENT_NUMBER: '5551260900' })).toThrow(/TWILIO_AGENT_NUMBER/);
  });

  it('reads the values it is given', () => {
    const c = loadConfig({ PORT: '8080', SIM_TIME_SCALE: '20', DATABASE_URL: 'postgres://u@h/db', PUBLIC_URL: 'https://sb.example.com/' });
    expect(c.port).toBe(8080);
    expect(c.simTimeScale).toBe(20);
    expect(c.databaseUrl).toBe('postgres://u@h/db');
    expect(c.publicUrl).toBe('https://sb.example.com');
  });
});
