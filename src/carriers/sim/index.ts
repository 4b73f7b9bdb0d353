/** The simulated phone network (`sim` carrier) and its scenario files. */
export { SimCarrier, DEFAULT_WORDS_PER_SECOND, type SimCarrierOptions } from './sim-carrier.js';
export { loadScenarios, parseScenarios, ScenarioError, type Scenario, type ScenarioKind } from './scenarios.js';
export { SIM_BEEP } from './parties/voicemail.js';
export { linesOf, keywordsOf } from './lines.js';
export type { LineLog } from './line.js';
