/** The forecast floor's answer (tuning/forecast-floor.ts) as `status.forecast`. */
import type { ForecastStatus } from '../api/v1alpha1/index.ts';
import type { ForecastFloor, ForecastMode } from '../tuning/types.ts';

/** The message fits the status field's bound; the reason's numbers come first. */
const MESSAGE_LIMIT = 1024;

/** forecastStatusOf turns the engine's forecast floor into status: the forecast, its error and the floor. */
export function forecastStatusOf(floor: ForecastFloor, mode: ForecastMode): ForecastStatus {
  const { forecast } = floor;
  return {
    mode,
    ...(forecast.on
      ? {
          season: forecast.season,
          peakRequestsPerSecond: Math.round(forecast.peakRps * 10) / 10,
          ...(forecast.errorPercent !== undefined
            ? { errorPercent: Math.round(forecast.errorPercent * 10) / 10 }
            : {}),
        }
      : {}),
    ...(floor.minReplicas !== undefined ? { minReplicas: floor.minReplicas } : {}),
    applied: floor.applied,
    message: floor.reason.slice(0, MESSAGE_LIMIT),
  };
}
