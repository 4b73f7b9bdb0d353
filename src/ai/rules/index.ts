/** The offline rules brain (`rules`): drives calls when no language model is configured. */
export { RulesBrain, type RulesBrainOptions } from './rules-brain.js';
export { parseMenu, chooseOption, scoreOption, type MenuOption } from './match.js';
export { phraseSamples } from './phrases.js';
