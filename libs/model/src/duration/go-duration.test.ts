import { formatDuration, parseGoDuration } from './go-duration';

describe('Go durations', () => {
  it.each<[string, number]>([
    ['0', 0],
    ['30s', 30_000],
    ['15m', 900_000],
    ['1h', 3_600_000],
    ['1h30m', 5_400_000],
    ['1.5h', 5_400_000],
    ['.5s', 500],
    ['250ms', 250],
    ['1500us', 1.5],
    ['2s500ms', 2500],
    ['0s', 0],
  ])('reads %s as %d ms', (text, ms) => {
    expect(parseGoDuration(text)).toBe(ms);
  });

  it.each(['', '15', '-5m', '+5m', '5 m', 'm', '5d', '1h 30m', '5mm', '.s'])('refuses %j', (text) => {
    expect(parseGoDuration(text)).toBeUndefined();
  });

  it.each<[number, string]>([
    [0, '0s'],
    [900_000, '15m'],
    [5_430_000, '1h30m30s'],
    [250, '250ms'],
  ])('writes %d ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
