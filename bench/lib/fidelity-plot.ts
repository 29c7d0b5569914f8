/** The fidelity benchmark's plot: r against K for the mesh, the reference simulation and theory, as a small SVG. */

/** `line: false` draws the markers alone (points that do not form a curve, such as single runs). */
export type Series = {label: string; color: string; points: Array<{k: number; r: number; std?: number}>; dashed?: boolean; markers?: boolean; line?: boolean};

const WIDTH = 640;
const HEIGHT = 400;
const MARGIN = {left: 56, right: 16, top: 32, bottom: 48};

export function renderRofK(title: string, series: readonly Series[], kMax: number): string {
	const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
	const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
	const x = (k: number) => MARGIN.left + (k / kMax) * plotWidth;
	const y = (r: number) => MARGIN.top + (1 - r) * plotHeight;
	const parts: string[] = [
		`<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
		`<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
		`<text x="${WIDTH / 2}" y="18" text-anchor="middle" font-size="13">${escape(title)}</text>`,
	];
	for (let tick = 0; tick <= 1.0001; tick += 0.2) {
		parts.push(
			`<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${y(tick).toFixed(1)}" y2="${y(tick).toFixed(1)}" stroke="#e5e5e5"/>`,
			`<text x="${MARGIN.left - 6}" y="${(y(tick) + 4).toFixed(1)}" text-anchor="end">${tick.toFixed(1)}</text>`,
		);
	}

	for (let k = 0; k <= kMax + 1e-9; k += 0.5) {
		parts.push(
			`<line x1="${x(k).toFixed(1)}" x2="${x(k).toFixed(1)}" y1="${MARGIN.top}" y2="${HEIGHT - MARGIN.bottom}" stroke="#e5e5e5"/>`,
			`<text x="${x(k).toFixed(1)}" y="${HEIGHT - MARGIN.bottom + 16}" text-anchor="middle">${k.toFixed(1)}</text>`,
		);
	}

	parts.push(
		`<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotWidth}" height="${plotHeight}" fill="none" stroke="#888"/>`,
		`<text x="${MARGIN.left + plotWidth / 2}" y="${HEIGHT - 10}" text-anchor="middle">coupling K</text>`,
		`<text x="16" y="${MARGIN.top + plotHeight / 2}" text-anchor="middle" transform="rotate(-90 16 ${MARGIN.top + plotHeight / 2})">order parameter r</text>`,
	);
	for (const [index, line] of series.entries()) {
		const path = line.points.map((point, pointIndex) => `${pointIndex === 0 ? 'M' : 'L'}${x(point.k).toFixed(1)},${y(point.r).toFixed(1)}`).join(' ');
		if (line.line !== false) {
			parts.push(`<path d="${path}" fill="none" stroke="${line.color}" stroke-width="2"${line.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
		}

		if (line.markers) {
			for (const point of line.points) {
				if (point.std !== undefined) {
					parts.push(`<line x1="${x(point.k).toFixed(1)}" x2="${x(point.k).toFixed(1)}" y1="${y(point.r - point.std).toFixed(1)}" y2="${y(point.r + point.std).toFixed(1)}" stroke="${line.color}"/>`);
				}

				parts.push(`<circle cx="${x(point.k).toFixed(1)}" cy="${y(point.r).toFixed(1)}" r="3" fill="${line.color}"/>`);
			}
		}

		const legendY = HEIGHT - MARGIN.bottom - 16 - index * 18;
		const legendX = WIDTH - MARGIN.right - 230;
		parts.push(
			line.line === false
				? `<circle cx="${legendX + 12}" cy="${legendY}" r="3" fill="${line.color}"/>`
				: `<line x1="${legendX}" x2="${legendX + 24}" y1="${legendY}" y2="${legendY}" stroke="${line.color}" stroke-width="2"${line.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
			`<text x="${legendX + 30}" y="${legendY + 4}">${escape(line.label)}</text>`,
		);
	}

	parts.push('</svg>');
	return `${parts.join('\n')}\n`;
}

function escape(text: string): string {
	return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}
