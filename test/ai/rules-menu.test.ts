import { describe, it, expect } from 'vitest';
import { chooseOption, parseMenu, scoreOption } from '../../src/ai/rules/index.js';

describe('phone-menu parser', () => {
  it('reads "for X, press N" and "press N for X", with spoken keys', () => {
    expect(parseMenu('For appointments, press 1. For prescription refills, press 2. To speak to reception, press 0.')).toEqual([
      { digits: '1', label: 'appointments' },
      { digits: '2', label: 'prescription refills' },
      { digits: '0', label: 'speak to reception' },
    ]);
    expect(parseMenu('Press one for billing, press two for lab results or press star to repeat.')).toEqual([
      { digits: '1', label: 'billing' },
      { digits: '2', label: 'lab results' },
      { digits: '*', label: 'repeat' },
    ]);
  });

  it('reads Swedish menus', () => {
    expect(parseMenu('För tidsbokning, tryck 1. För recept, tryck 2. Tryck 9 för växeln.')).toEqual([
      { digits: '1', label: 'tidsbokning' },
      { digits: '2', label: 'recept' },
      { digits: '9', label: 'växeln' },
    ]);
  });

  it('finds nothing in speech that is not a menu', () => {
    expect(parseMenu('Thank you for calling. All our staff are busy, please hold.')).toEqual([]);
  });
});

describe('option scoring', () => {
  const main = parseMenu('For billing, press 3. For appointments, press 1. For prescriptions, press 2. To speak to someone, press 0.');

  it('matches the task through synonyms', () => {
    expect(scoreOption('appointments', 'Reschedule my reservation')).toBeGreaterThan(0);
    expect(scoreOption('prescriptions', 'Ask for a refill of my medicine')).toBeGreaterThan(0);
    expect(scoreOption('billing', 'Move my appointment')).toBe(0);
    expect(chooseOption(main, 'Move my booking to Friday')?.digits).toBe('1');
    expect(chooseOption(main, 'Request a refill of my blood pressure medicine')?.digits).toBe('2');
  });

  it('prefers changing an existing appointment for a move, and falls back to a person', () => {
    const sub = parseMenu('To book a new appointment, press 1. To change or cancel an existing appointment, press 2.');
    expect(chooseOption(sub, 'Move my appointment to Thursday')?.digits).toBe('2');
    expect(chooseOption(sub, 'Book a new appointment for a check-up')?.digits).toBe('1');
    expect(chooseOption(main, 'Find out whether the clinic is open on Saturday')?.digits).toBe('0');
    expect(chooseOption(parseMenu('For billing, press 3.'), 'Move my appointment')).toBeUndefined();
  });
});
