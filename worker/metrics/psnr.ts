/** PSNR in dB over [0,1] values: -10 log10(MSE). Identical images give +Infinity. */
import { checkPair, unit, type MetricImage } from './image-pair.ts';

export function mse(a: MetricImage, b: MetricImage, name = 'mse'): number {
  checkPair(a, b, name);
  const x = unit(a, `${name}.a`);
  const y = unit(b, `${name}.b`);
  let s = 0;
  for (let i = 0; i < x.length; i++) s += (x[i] - y[i]) ** 2;
  return s / x.length;
}

export function psnrFromMse(m: number): number {
  return m === 0 ? Infinity : -10 * Math.log10(m);
}

export function psnr(a: MetricImage, b: MetricImage): number {
  return psnrFromMse(mse(a, b, 'psnr'));
}
