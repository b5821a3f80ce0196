export type ShipmentStatus = 'label_created' | 'packed' | 'shipped' | 'delivered' | 'voided';

/** Plain labels of the integration database's shipment statuses. */
export const SHIPMENT_STATUS_LABELS: Record<ShipmentStatus, string> = {
  label_created: 'Label created',
  packed: 'Packed',
  shipped: 'Shipped',
  delivered: 'Delivered',
  voided: 'Cancelled',
};
