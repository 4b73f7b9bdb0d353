import type { Bus } from '../../bus/bus.js';
import type { Core } from '../../core/index.js';

/** What every face plugin is given. */
export interface FaceOptions {
  core: Core;
  bus: Bus;
}
