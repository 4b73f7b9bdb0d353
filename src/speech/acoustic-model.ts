/**
 * PocketSphinx's US English acoustic model, started from telephone audio's cepstral mean instead of the
 * 16 kHz recordings' it was trained on.
 *
 * The recogniser normalises each utterance by a running cepstral mean, which starts at the model's
 * `-cmninit` and only settles after a few seconds of speech. Telephone audio (8 kHz, nothing above 4 kHz)
 * has a very different mean, so a stream's first words — the agent's task on a simulated call, a party's
 * greeting — are decoded with the wrong one, and mostly wrong. PocketSphinx 5prealpha lets the model's
 * feat.params override `-cmninit` on the command line, so the setting is made in a copy of the model folder:
 * links to its files, and a feat.params with the telephone mean. Measured in docs/performance.md
 * ("Offline speech: word error rate").
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { EN_US_MODEL_DIR, modelCacheDir } from './language-model.js';

/** The acoustic model folder of Debian's pocketsphinx-en-us. */
const ACOUSTIC_DIR = path.join(EN_US_MODEL_DIR, 'en-us');

/**
 * The cepstral mean PocketSphinx settles on for espeak-ng's telephone audio: the mean of where its running
 * mean ended after a minute of the simulated parties' voice (m3) and of the offline agent's (f3), μ-law 8 kHz
 * upsampled as src/speech/recognizer.ts does. Closer to a real phone line's than the 16 kHz model's own
 * (41, −5.3, …), though a real line and voice differ again; the running mean adapts from here either way.
 */
export const TELEPHONE_CMN = [61.08, 5.32, -0.95, 20.51, -12.56, 1.35, -9.95, -4.71, -15.17, 12.12, -12.06, 11.93, -6.56];

const built = new Map<string, string>();

/**
 * The folder of the acoustic model with `TELEPHONE_CMN` (for `-hmm`), made once in `cacheDir` under the hash
 * of its feat.params. Throws when the model is not installed (pocketsphinx-en-us).
 */
export function telephoneAcousticModel(cacheDir = modelCacheDir()): string {
  const params = fs.readFileSync(path.join(ACOUSTIC_DIR, 'feat.params'), 'utf8').replace(/^-cmninit .*$/m, '').trimEnd() + `\n-cmninit ${TELEPHONE_CMN.join(',')}\n`;
  const dir = path.join(cacheDir, `hmm-${createHash('sha256').update(params).digest('hex').slice(0, 16)}`);
  if (built.get(cacheDir) === dir && fs.existsSync(path.join(dir, 'feat.params'))) return dir;
  if (!fs.existsSync(path.join(dir, 'feat.params'))) {
    // Made aside and renamed: a recogniser started by another process never sees half a folder.
    const tmp = `${dir}.${process.pid}.tmp`;
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.mkdirSync(tmp, { recursive: true });
    for (const file of fs.readdirSync(ACOUSTIC_DIR)) if (file !== 'feat.params') fs.symlinkSync(path.join(ACOUSTIC_DIR, file), path.join(tmp, file));
    fs.writeFileSync(path.join(tmp, 'feat.params'), params);
    try {
      fs.renameSync(tmp, dir);
    } catch (err) {
      // Another process made it first.
      fs.rmSync(tmp, { recursive: true, force: true });
      if (!fs.existsSync(path.join(dir, 'feat.params'))) throw err;
    }
  }
  built.set(cacheDir, dir);
  return dir;
}
