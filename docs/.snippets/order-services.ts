// The services the from-bullmq and from-nestjs-cqrs guides' order processes call (stand-ins for a
// stock system, a payment provider and a carrier; each takes an idempotency key).
import { Injectable } from '@nestjs/common';

export interface Order {
  id: string;
  sku: string;
  quantity: number;
  card: string;
}

@Injectable()
export class InventoryService {
  async reserve(sku: string, quantity: number, key: string): Promise<void> {
    console.log(`reserve ${quantity} ${sku} (${key})`);
  }

  async release(sku: string, quantity: number, key: string): Promise<void> {
    console.log(`release ${quantity} ${sku} (${key})`);
  }
}

@Injectable()
export class PaymentsService {
  async charge(card: string, key: string): Promise<void> {
    console.log(`charge ${card} (${key})`);
  }
}

@Injectable()
export class ShippingService {
  async ship(orderId: string, key: string): Promise<void> {
    console.log(`ship ${orderId} (${key})`);
  }
}
