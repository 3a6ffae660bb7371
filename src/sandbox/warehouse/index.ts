export {
  startWarehouseTwin,
  type WarehouseTwin,
  type WarehouseTwinFaults,
  type WarehouseTwinOptions,
} from './warehouse-twin.js';
