/*
 * params.h -- the plain parameter structs of the physical and workload models.  Every
 * field carries its unit; defaults, ranges and sources are in the settings table
 * (sim/src/scenario.c) and docs/MODEL.md.  Models read these and never do I/O.
 */
#ifndef SKADI_PARAMS_H
#define SKADI_PARAMS_H

#include <stdint.h>

#define SK_GPU_TDP_W 700.0 /* W, H100 SXM board power limit (physics §4) */

/* One 8-GPU inference server (one model replica, TP8). */
typedef struct {
  int gpus;                       /* GPUs per server, 1..16 */
  double gpu_idle_w;              /* W per GPU, idle with model resident */
  double gpu_prefill_w;           /* W per GPU during prefill (compute bound, near TDP) */
  double gpu_decode_base_w;       /* W per GPU during decode at batch 0 */
  double gpu_decode_w_per_seq;    /* W per GPU per active sequence in decode */
  double gpu_power_cap_w;         /* W per GPU, board power limit; >= the decode ceiling
                                   * gpu_decode_base_w + gpu_decode_w_per_seq*max_batch */
  double cap_latency_exp;         /* -, 0..2: prefill time x (gpu_prefill_w/cap)^this
                                   * when the cap binds */
  double host_idle_w;             /* W, CPUs/DRAM/NIC/NVSwitch when idle */
  double host_busy_w;             /* W, same when serving */
  double fan_base_w;              /* W, server fans at or below fan_knee_c */
  double fan_knee_c;              /* °C inlet where fan power starts rising (25) */
  double fan_slope_pct_per_k;     /* % of server power per K between knee and fan_steep_c */
  double fan_steep_c;             /* °C inlet above which the steep slope applies (32) */
  double fan_steep_pct_per_k;     /* % of server power per K above fan_steep_c */
  double psu_eff;                 /* -, PSU efficiency 0.8..1 */
  double airflow_m3s;             /* m³/s of air through one server */
  double heat_capacity_j_per_k;   /* J/K, lumped thermal capacitance of one server */
  double gpu_r_th_k_per_w;        /* K/W, GPU temperature rise over inlet per GPU watt */
  double gpu_throttle_c;          /* °C GPU temperature where clocks start to drop */
  double throttle_pct_per_k;      /* % slowdown per K above gpu_throttle_c */
  int max_batch;                  /* max sequences decoding at once */
  double batch_window_ms;         /* ms a waiting request may wait for others before prefill */
  int max_prefill_tokens;         /* max prompt tokens in one prefill iteration */
} sk_server_params;

/* Inference timing fitted to measured data (docs/MODEL.md gives the fit and its error):
 * prefill_ms(N) = max(floor, a + b*N) for N prompt tokens in the iteration;
 * step_ms(B) = d + e*B for B sequences decoding. */
typedef struct {
  double prefill_a_ms;         /* ms, linear part at N = 0; may be < 0 (the floor covers it) */
  double prefill_b_ms_per_tok; /* ms/token, slope above the floor, >= 0 */
  double prefill_floor_ms;     /* ms, prefill time of short prompts, >= 0 */
  double step_a_ms;            /* ms, decode step at B = 0 */
  double step_b_ms_per_seq;    /* ms per sequence decoding, >= 0 */
} sk_perf_params;

/* Arrivals and token counts. */
typedef struct {
  double rate_prompts_s;          /* prompts/s, room mean (before rate_scale) */
  double rate_scale;              /* -, multiplies every arrival rate (and trace speed) */
  double diurnal_amplitude;       /* -, 0..0.9: rate*(1 + A*cos(2π(h - peak_hour)/24)) */
  double peak_hour;               /* h of day of the peak rate, 0..24 */
  double prompt_tokens_mean;      /* tokens, lognormal mean */
  double prompt_tokens_sd;        /* tokens */
  double output_tokens_mean;      /* tokens, lognormal mean */
  double output_tokens_sd;        /* tokens */
  int max_tokens;                 /* cap on either count */
} sk_workload_params;

/* Room air path and CRAH units (one per row). */
typedef struct {
  double rho_cp_j_per_m3k;        /* J/(m³·K), air volumetric heat capacity (1206) */
  double recirc_mid;              /* -, recirculation fraction of mid-row racks */
  double recirc_end;              /* -, recirculation fraction of end-of-row racks */
  double bypass_frac;             /* -, share of the tiles' air that bypasses the racks
                                   * (back to the CRAH unused); the rest of a rack's air
                                   * comes from the hot aisle (thermal.c) */
  double air_m3_per_rack;         /* m³, room air behind each rack (hot aisle and the room
                                   * above it): the hot-aisle node's thermal mass */
  double cold_aisle_m3_per_rack;  /* m³, cold-aisle air in front of each rack: the inlet
                                   * node's thermal mass */
  double crah_rated_flow_m3s;     /* m³/s at 100 % fan speed */
  double crah_rated_fan_kw;       /* kW at 100 % fan speed */
  double crah_fan_speed_pct;      /* %, default fan speed (30..100) */
  double crah_min_speed_pct;      /* %, lowest allowed fan speed */
  double supply_setpoint_c;       /* °C, default supply-air setpoint */
  double coil_approach_k;         /* K, supply air >= CHW supply + this */
  double coil_tau_s;              /* s, time constant of the CRAH coil's supply air (its
                                   * metal and water content); 0 = none */
} sk_room_params;

/* Chilled-water plant, electrical chain, outdoor conditions. */
typedef struct {
  double chw_supply_c;            /* °C, chilled-water supply setpoint */
  double chw_design_dt_k;         /* K, CHW ΔT at design flow and design load */
  double chiller_capacity_kw;     /* kW refrigeration per chiller at reference conditions */
  int n_chillers;                 /* chillers available (staged) */
  double chiller_cop_ref;         /* -, COP at the reference point */
  double chiller_min_plr;         /* -, below this the chiller cycles (power at min PLR) */
  double tower_approach_k;        /* K, condenser water entering = wet bulb + this */
  double condenser_min_c;         /* °C, floor of condenser water entering */
  double tower_rated_kw;          /* kW, tower fans at design heat rejection */
  double pump_rated_kw;           /* kW, CHW + CW pumps at 100 % speed */
  double pump_speed_pct;          /* %, pump speed (constant-speed baseline = 100) */
  double pump_min_speed_pct;      /* % */
  double design_load_kw;          /* kW, plant design heat load (pump design flow) */
  double ups_eff;                 /* -, UPS efficiency */
  double pdu_loss_frac;           /* -, PDU/distribution loss as a fraction of IT */
  double misc_kw;                 /* kW, lighting and misc, all of it heat inside the room */
  double losses_in_room_frac;     /* -, share of UPS + PDU losses released inside the room
                                   * and so removed by the chilled water (0..1) */
  double chw_loop_m3;             /* m³, water in the chilled-water loop (its thermal mass) */
  double wetbulb_mean_c;          /* °C, outdoor wet-bulb daily mean */
  double wetbulb_amplitude_k;     /* K, half the daily swing */
  double wetbulb_peak_hour;       /* h of day of the warmest wet bulb */
} sk_plant_params;

#endif
