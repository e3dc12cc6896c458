import { Body, Controller, Get, Param, Post } from '@nestjs/common';
import { CreateTransferDto } from './create-transfer.dto.js';
import type { TransferStatus } from './transfer-status.js';
import { TransfersService } from './transfers.service.js';

/** `POST /transfers` starts a transfer; `GET /transfers/:id` follows it. */
@Controller('transfers')
export class TransfersController {
  constructor(private readonly transfers: TransfersService) {}

  @Post()
  start(@Body() body: CreateTransferDto): Promise<{ transferId: string; workflowId: string }> {
    return this.transfers.start(body);
  }

  @Get(':id')
  status(@Param('id') id: string): Promise<TransferStatus> {
    return this.transfers.status(id);
  }
}
