/** The heatmap legend: the SQNR colour ramp, or the plan's scheme colours. */
import { el } from './dom';
import { planColour, RAMP } from './graph/heatmap';

export function renderLegend(container: HTMLElement, schemes: readonly string[] | undefined, plan: boolean): void {
  if (!schemes) {
    container.replaceChildren();
    container.hidden = true;
    return;
  }
  container.hidden = false;
  if (plan) {
    container.replaceChildren(
      el('span', {}, 'Plan: '),
      ...schemes.map((scheme) => swatch(planColour(schemes, scheme)!, scheme)),
      swatch('', 'exact'),
    );
    return;
  }
  const ramp = el('span', { class: 'ramp' });
  ramp.style.background = `linear-gradient(to right, ${RAMP.map(([db, c]) => `${c} ${(100 * db) / 60}%`).join(', ')})`;
  container.replaceChildren(
    el('span', {}, 'SQNR '),
    el('span', {}, '≤0 dB'),
    ramp,
    el('span', {}, '≥60 dB'),
    el('span', { class: 'muted' }, ' · badge: energy saved'),
  );
}

function swatch(colour: string, label: string): HTMLElement {
  const box = el('span', { class: 'swatch' });
  if (colour) box.style.background = colour;
  return el('span', { class: 'legend-item' }, box, label);
}
