export { RealtimeActivity, type RealtimeActivityOptions } from './realtime-activity.js';
export { cutToHeard } from './heard.js';
export { speechToSpeechActivity, type SpeechToSpeechConfig, type SpeechToSpeechCall } from './wiring.js';
