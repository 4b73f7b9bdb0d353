/**
 * The voice rules of 000/001 as a table: a call's voice fields, its language and the providers this
 * server has keys for → the voice it speaks with, or the 400 naming the field.
 */
import { describe, expect, it } from 'vitest';
import { parseVoiceSettings, resolveVoice, voiceForCall, type HostedTtsProvider, type VoiceFields } from '../../src/core/voice/index.js';

const ALL: HostedTtsProvider[] = ['openai', 'elevenlabs', 'azure'];
const auto = (more: Partial<VoiceFields> = {}): VoiceFields => ({ ttsProvider: 'auto', gender: 'male', ...more });

describe('resolveVoice', () => {
  const cases: [string, VoiceFields, string, HostedTtsProvider[], object][] = [
    ['Swedish, auto → ElevenLabs with the chosen voice', auto({ elevenLabsVoice: 'myClonedVoice01' }), 'sv', ALL, { provider: 'elevenlabs', voice: 'myClonedVoice01' }],
    ['Swedish, auto, no voice → ElevenLabs’ male default', auto(), 'sv', ALL, { provider: 'elevenlabs', voice: 'JBFqnCBsd6RMkjVDRZzb' }],
    ['Swedish, auto, female → ElevenLabs’ female default', auto({ gender: 'female' }), 'sv', ALL, { provider: 'elevenlabs', voice: 'EXAVITQu4vr4xnSDxMaL' }],
    ['English, auto, no voice → OpenAI’s male default', auto(), 'en', ALL, { provider: 'openai', voice: 'cedar' }],
    ['English, auto, female → OpenAI’s female default', auto({ gender: 'female' }), 'en', ALL, { provider: 'openai', voice: 'marin' }],
    ['English, auto, openaiVoice wins over the gender', auto({ gender: 'female', openaiVoice: 'echo' }), 'en', ALL, { provider: 'openai', voice: 'echo' }],
    ['German, auto → Azure, which has a German voice', auto({ gender: 'female' }), 'de', ALL, { provider: 'azure', voice: 'de-DE-KatjaNeural' }],
    ['German, auto, no Azure → ElevenLabs', auto(), 'de', ['openai', 'elevenlabs'], { provider: 'elevenlabs', voice: 'JBFqnCBsd6RMkjVDRZzb' }],
    ['Swahili, auto → OpenAI (no one else has a voice for it)', auto(), 'sw', ALL, { provider: 'openai', voice: 'cedar' }],
    ['Swedish, auto, no ElevenLabs → Azure’s Swedish voice', auto(), 'sv', ['openai', 'azure'], { provider: 'azure', voice: 'sv-SE-MattiasNeural' }],
    ['English, auto, no OpenAI → ElevenLabs', auto(), 'en', ['elevenlabs'], { provider: 'elevenlabs', voice: 'JBFqnCBsd6RMkjVDRZzb' }],
    ['Swahili, auto, only Azure and ElevenLabs (no voice for it) → espeak-ng, never a 400', auto(), 'sw', ['azure', 'elevenlabs'], { provider: 'espeak', voice: 'm3' }],
    ['Swahili, auto, azureVoice given → Azure with it', auto({ azureVoice: 'sw-KE-ZuriNeural' }), 'sw', ['azure'], { provider: 'azure', voice: 'sw-KE-ZuriNeural' }],
    ['auto with no provider configured → espeak-ng, offline', auto({ gender: 'female' }), 'en', [], { provider: 'espeak', voice: 'f3' }],
    ['English, auto, azureVoice names Azure', auto({ azureVoice: 'en-GB-SoniaNeural', azureStyle: 'cheerful' }), 'en', ALL, { provider: 'azure', voice: 'en-GB-SoniaNeural', style: 'cheerful' }],
    ['English, auto, style and role alone name Azure (its default voice)', auto({ azureStyle: 'calm', azureRole: 'OlderAdultMale' }), 'en', ALL, { provider: 'azure', voice: 'en-US-GuyNeural', style: 'calm', role: 'OlderAdultMale' }],
    ['voices for two providers: the language picks (Swedish)', auto({ openaiVoice: 'ash', elevenLabsVoice: 'svVoice' }), 'sv', ALL, { provider: 'elevenlabs', voice: 'svVoice' }],
    ['voices for two providers: the language picks (English)', auto({ openaiVoice: 'ash', elevenLabsVoice: 'svVoice' }), 'en', ALL, { provider: 'openai', voice: 'ash' }],
    ['tts_provider elevenlabs for English, with model', { ttsProvider: 'elevenlabs', gender: 'female', elevenLabsModel: 'eleven_multilingual_v2' }, 'en', ALL, { provider: 'elevenlabs', voice: 'EXAVITQu4vr4xnSDxMaL', model: 'eleven_multilingual_v2' }],
    ['tts_provider openai for Swedish', { ttsProvider: 'openai', gender: 'male' }, 'sv', ALL, { provider: 'openai', voice: 'cedar' }],
    [
      'tts_provider azure with every Azure field',
      { ttsProvider: 'azure', gender: 'male', azureVoice: 'sv-SE-HilleviNeural', azureStyle: 'sad', azureRole: 'Girl', azureBackgroundAudio: { src: 'https://example.com/a.mp3', volume: 0.5 } },
      'sv',
      ALL,
      { provider: 'azure', voice: 'sv-SE-HilleviNeural', style: 'sad', role: 'Girl', backgroundAudio: { src: 'https://example.com/a.mp3', volume: 0.5 } },
    ],
    ['an agent’s voice_settings reach ElevenLabs (English)', auto({ settings: { stability: 0.4, similarity_boost: 0.8 } }), 'en', ALL, { provider: 'elevenlabs', settings: { stability: 0.4, similarityBoost: 0.8 } }],
    ['voice_settings without ElevenLabs: the language’s choice', auto({ settings: { stability: 0.4 } }), 'en', ['openai'], { provider: 'openai', voice: 'cedar' }],
  ];
  it.each(cases)('%s', (_name, fields, language, configured, expected) => {
    const choice = resolveVoice(fields, language, configured);
    expect(choice).toMatchObject(expected);
    if (choice.provider !== 'elevenlabs') expect(choice.settings).toBeUndefined();
  });

  const refusals: [string, VoiceFields, string, HostedTtsProvider[], string][] = [
    ['tts_provider not configured', { ttsProvider: 'elevenlabs', gender: 'male' }, 'sv', ['openai'], 'tts_provider'],
    ['elevenLabsVoice with no ElevenLabs', auto({ elevenLabsVoice: 'abc' }), 'sv', ['openai'], 'elevenLabsVoice'],
    ['azureVoice with no Azure', auto({ azureVoice: 'sv-SE-SofieNeural' }), 'sv', ['openai', 'elevenlabs'], 'azureVoice'],
    ['openaiVoice with no OpenAI', auto({ openaiVoice: 'ash' }), 'en', [], 'openaiVoice'],
    ['style with tts_provider openai', { ttsProvider: 'openai', gender: 'male', azureStyle: 'cheerful' }, 'en', ALL, 'style'],
    ['role with tts_provider elevenlabs', { ttsProvider: 'elevenlabs', gender: 'male', azureRole: 'Girl' }, 'en', ALL, 'role'],
    ['elevenLabsModel with tts_provider azure', { ttsProvider: 'azure', gender: 'male', elevenLabsModel: 'eleven_flash_v2_5' }, 'en', ALL, 'elevenLabsModel'],
    ['openaiVoice OpenAI does not have', auto({ openaiVoice: 'morgan' }), 'en', ALL, 'openaiVoice'],
    ['Azure for a language it has no default for, no azureVoice', { ttsProvider: 'azure', gender: 'male' }, 'sw', ALL, 'azureVoice'],
    ['azureVoice that is not a voice name', auto({ azureVoice: 'Jenny' }), 'en', ALL, 'azureVoice'],
    ['background audio fading longer than Azure allows', auto({ azureBackgroundAudio: { src: 'https://example.com/a.mp3', fadeInMs: 20_000 } }), 'en', ALL, 'azureBackgroundAudio'],
    ['background audio over plain http', auto({ azureBackgroundAudio: { src: 'http://example.com/a.mp3' } }), 'en', ALL, 'azureBackgroundAudio'],
  ];
  it.each(refusals)('refuses %s, naming the field', (_name, fields, language, configured, field) => {
    let err: any;
    try {
      resolveVoice(fields, language, configured);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'SB_ERR_VALIDATION', details: { field } });
    expect(err.message).toContain(field);
  });
});

describe('parseVoiceSettings (002’s voice_settings)', () => {
  it('keeps ElevenLabs’ settings', () => {
    expect(parseVoiceSettings({ stability: 0.5, similarity_boost: 0.75, use_speaker_boost: true, speed: 1.1, style: 0 })).toEqual({ stability: 0.5, similarity_boost: 0.75, use_speaker_boost: true, speed: 1.1, style: 0 });
  });
  it.each([
    [{ stability: 2 }, 'voice_settings.stability'],
    [{ similarity_boost: '0.5' }, 'voice_settings.similarity_boost'],
    [{ use_speaker_boost: 1 }, 'voice_settings.use_speaker_boost'],
    [{ speed: 3 }, 'voice_settings.speed'],
    [{ pitch: 1 }, 'voice_settings.pitch'],
    [[], 'voice_settings'],
  ])('refuses %j naming %s', (value, field) => {
    expect(() => parseVoiceSettings(value)).toThrow(expect.objectContaining({ details: { field } }));
  });
});

describe('voiceForCall (a call already accepted)', () => {
  it('still speaks when its provider has gone since it was accepted: auto’s choice for its language', () => {
    expect(voiceForCall({ voice: { ttsProvider: 'azure', gender: 'female', azureVoice: 'sv-SE-SofieNeural' }, language: 'sv' }, ['elevenlabs'])).toEqual({ provider: 'elevenlabs', voice: 'EXAVITQu4vr4xnSDxMaL' });
    expect(voiceForCall({ voice: { ttsProvider: 'auto', gender: 'male', openaiVoice: 'ash' }, language: 'en' }, ['openai'])).toEqual({ provider: 'openai', voice: 'ash' });
  });
});
