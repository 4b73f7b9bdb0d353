/** Personal data in free text: finding it, and keeping it from the model. */
export { findPersonalData, type PersonalDataKind, type PersonalDataMatch } from './personal-data.js';
export { protectTaskText, isTaskKeypadField, taskFieldLabel, DETAIL_NAMES, type TaskKeypadField, type TaskDetail, type ProtectedText } from './task-text.js';
